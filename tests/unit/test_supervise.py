"""deploy/local/supervise.py: parses the Procfile, waits for readiness, restarts a service that exits
(with backoff, the others untouched), stops everything on SIGTERM. Real processes throughout."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deploy.local.supervise import Backoff, RestartPolicy, Service, parse_procfile
from loa.settings import REPO_ROOT
from loa.testing.ports import free_port

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


def test_restart_delays_double_up_to_the_cap_and_a_stable_run_resets_them() -> None:
    backoff = Backoff(RestartPolicy(first_delay=1, max_delay=30, stable_after=60, give_up_after=8))
    delays = [backoff.after_exit(up_seconds=2) for _ in range(7)]
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.after_exit(up_seconds=120) == 1, "a run of 120 s starts the count again"
    assert backoff.after_exit(up_seconds=2) == 2


def test_the_nth_quick_exit_in_a_row_gives_up() -> None:
    backoff = Backoff(RestartPolicy(give_up_after=3))
    assert [backoff.after_exit(0.1) for _ in range(3)] == [1, 2, None]


class Supervised:
    """A real supervisor process over ``procfile``, its output read line by line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []

    def expect(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """The first line from now on matching ``pattern`` (a regex)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r}; got:\n{''.join(self.lines)}")

    def pid(self, name: str) -> int:
        """The pid of ``name``'s latest start, from the 'started, pid N' lines read so far."""
        starts = [re.search(rf"^{name}\s+\| started, pid (\d+)", line) for line in self.lines]
        return int([m for m in starts if m][-1].group(1))


@contextmanager
def supervise(tmp_path: Path, procfile: str, *args: str) -> Iterator[Supervised]:
    path = tmp_path / "test.Procfile"
    path.write_text(procfile)
    process = subprocess.Popen(
        [sys.executable, str(SUPERVISE), str(path), *args],
        stdout=subprocess.PIPE,
        text=True,
        env={"LOA_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )
    try:
        yield Supervised(process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_services_become_ready_and_sigterm_stops_all_of_them(tmp_path: Path) -> None:
    port = free_port()
    procfile = (
        f"web: MALLOC_ARENA_MAX=2 python -m http.server {port} --bind 127.0.0.1"
        f"   # ready: http://127.0.0.1:{port}/\n"
        "idle: sleep 300\n"
    )
    with supervise(tmp_path, procfile) as sup:
        sup.expect("all services ready")
        assert any(f"ready: http://127.0.0.1:{port}/" in line for line in sup.lines), sup.lines
        idle = sup.pid("idle")  # its own pid: another `sleep 300` on this machine is not ours
        sup.process.send_signal(signal.SIGTERM)
        assert sup.process.wait(timeout=20) == 0
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web service still listens"
    assert not _alive(idle), "the idle service still runs"


def test_a_sigkilled_service_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    port = free_port()
    procfile = (
        f"web: python -m http.server {port} --bind 127.0.0.1   # ready: http://127.0.0.1:{port}/\n"
        "idle: sleep 301\n"
    )
    with supervise(tmp_path, procfile, "--restart-delay", "0.2") as sup:
        sup.expect("all services ready")
        web, idle = sup.pid("web"), sup.pid("idle")
        os.kill(web, signal.SIGKILL)
        sup.expect(r"^web\s+\| exited with signal SIGKILL after [\d.]+ s; restarting in 0.2 s")
        sup.expect(r"^web\s+\| started, pid \d+")
        sup.expect(rf"^web\s+\| ready: http://127.0.0.1:{port}/")
        assert sup.pid("web") != web
        assert _alive(sup.pid("web"))
        assert _alive(idle), "the other service was stopped with the crashed one"
        assert sup.process.poll() is None, "the supervisor stopped"
        sup.process.send_signal(signal.SIGTERM)
        assert sup.process.wait(timeout=20) == 0
        assert not _alive(sup.pid("web")) and not _alive(idle)


def test_a_service_that_keeps_failing_is_given_up_with_a_clear_message(tmp_path: Path) -> None:
    procfile = "broken: bash -c 'echo Lỗi cấu hình: thiếu LOA_ĐƯỜNG_DẪN; exit 3'\nidle: sleep 302\n"
    args = ("--restart-delay", "0.1", "--restart-max-delay", "0.3", "--give-up-after", "4")
    with supervise(tmp_path, procfile, *args) as sup:
        delays = [
            float(sup.expect(r"^broken\s+\| exited with code 3 after [\d.]+ s; restarting in ([\d.]+) s")[1])
            for _ in range(3)
        ]
        assert delays == [0.1, 0.2, 0.3]
        sup.expect(r"^broken\s+\| exited with code 3 .*4 quick exits in a row: giving up on it")
        assert any("Lỗi cấu hình: thiếu LOA_ĐƯỜNG_DẪN" in line for line in sup.lines), "its own output"
        time.sleep(0.5)
        assert _alive(sup.pid("idle")), "the other service was stopped"
        assert sup.process.poll() is None, "the supervisor stopped with a service given up"
        sup.process.send_signal(signal.SIGTERM)
        assert sup.process.wait(timeout=20) == 1, "a service given up makes the run fail"
