"""deploy/local/supervise.py: parses the Procfile, waits for readiness, stops everything on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.local.supervise import Service, parse_procfile
from loa.settings import REPO_ROOT

pytestmark = pytest.mark.unit

SUPERVISE = REPO_ROOT / "deploy" / "local" / "supervise.py"


def test_procfile_lines_name_a_command_and_an_optional_readiness_url() -> None:
    text = "# comment\n\nweb: python -m http.server 1   # ready: http://127.0.0.1:1/\nworker: sleep 5\n"
    assert parse_procfile(text) == [
        Service("web", "python -m http.server 1", "http://127.0.0.1:1/"),
        Service("worker", "sleep 5", None),
    ]


@pytest.mark.parametrize("text", ["no colon here", "a: x\na: y"])
def test_bad_procfile_lines_are_rejected_with_their_line_number(text: str) -> None:
    with pytest.raises(ValueError, match="line"):
        parse_procfile(text)


def test_the_project_procfile_lists_the_sandbox() -> None:
    services = parse_procfile((REPO_ROOT / "deploy/local/services.Procfile").read_text())
    assert "sandbox" in {s.name for s in services}


def test_assignments_before_a_command_become_its_environment() -> None:
    (service,) = parse_procfile("x: MALLOC_ARENA_MAX=2 LOA_X=a=b python -m services.x  # ready: tcp://h:1")
    assert service.command == "python -m services.x"
    assert service.env == {"MALLOC_ARENA_MAX": "2", "LOA_X": "a=b"}
    assert service.ready == "tcp://h:1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_services_become_ready_and_sigterm_stops_all_of_them(tmp_path: Path) -> None:
    port = _free_port()
    procfile = tmp_path / "test.Procfile"
    procfile.write_text(
        f"web: MALLOC_ARENA_MAX=2 python -m http.server {port} --bind 127.0.0.1"
        f"   # ready: http://127.0.0.1:{port}/\n"
        "idle: sleep 300\n"
    )
    supervisor = subprocess.Popen(
        [sys.executable, str(SUPERVISE), str(procfile)],
        stdout=subprocess.PIPE,
        text=True,
        env={"LOA_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )
    assert supervisor.stdout is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = supervisor.stdout.readline()
        lines.append(line)
        if "all services ready" in line:
            break
    assert any(f"ready: http://127.0.0.1:{port}/" in line for line in lines), lines
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=20) == 0
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web service still listens"
    idle = subprocess.run(["pgrep", "-f", "^sleep 300$"], capture_output=True, check=False)
    assert idle.returncode == 1, "the idle service still runs"
