"""The stack scripts' shared functions: credentials never printed, a taken port named clearly."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from loa.access.storage import secret_settings
from loa.archive import signing
from loa.settings import REPO_ROOT

pytestmark = pytest.mark.unit

LIB = REPO_ROOT / "deploy" / "local" / "lib.sh"


def _bash(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {LIB}; {script}"],
        capture_output=True,
        text=True,
        env={**os.environ, "LOA_CACHE_DIR": str(tmp_path / "cache"), **env},
        check=False,
    )


def _read_env(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_env_local_is_generated_once_with_usable_secrets_that_are_never_printed(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    first = _bash("ensure_env_file", tmp_path, LOA_ENV_FILE=str(env_file))
    assert first.returncode == 0, first.stderr
    values = _read_env(env_file)
    assert set(values) == {
        "LOA_S3_ACCESS_KEY",
        "LOA_S3_SECRET_KEY",
        "LOA_API_TOKEN",
        "LOA_CREDENTIALS_KEY",
        "LOA_MODE",
        "LOA_ARCHIVE_SIGNING_KEY",
        *secret_settings(),  # the stores' per-service secrets (loa.access.storage)
    }
    assert values["LOA_MODE"] == "development"  # the local stack runs the sandbox
    for key in ("LOA_S3_SECRET_KEY", "LOA_API_TOKEN", "LOA_CREDENTIALS_KEY", "LOA_ARCHIVE_SIGNING_KEY"):
        assert values[key] not in first.stdout + first.stderr, f"{key} was printed"
    signing.private_key(values["LOA_ARCHIVE_SIGNING_KEY"])  # a usable Ed25519 key (32 bytes)
    assert len(values["LOA_S3_SECRET_KEY"]) >= 8  # MinIO's minimum
    Fernet(values["LOA_CREDENTIALS_KEY"].encode())  # a valid Fernet key
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    second = _bash("ensure_env_file", tmp_path, LOA_ENV_FILE=str(env_file))
    assert second.returncode == 0
    assert second.stdout == ""
    assert _read_env(env_file) == values


def test_an_env_local_written_before_the_mode_gets_development_once(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    env_file.write_text("LOA_API_TOKEN=abc")  # no last newline: the appended line must not join it
    for _ in range(2):
        assert _bash("ensure_env_file", tmp_path, LOA_ENV_FILE=str(env_file)).returncode == 0
    assert env_file.read_text().startswith("LOA_API_TOKEN=abc\nLOA_MODE=development\n")
    assert env_file.read_text().count("LOA_MODE=") == 1
    env_file.write_text("LOA_MODE=production\n")  # a choice already made is kept
    _bash("ensure_env_file", tmp_path, LOA_ENV_FILE=str(env_file))
    assert _read_env(env_file)["LOA_MODE"] == "production"


def test_the_oidc_provider_gets_a_client_secret_and_one_password_per_person_once(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    env_file.write_text("LOA_MODE=development")  # an .env.local from before the provider
    first = _bash("ensure_oidc_env", tmp_path, LOA_ENV_FILE=str(env_file))
    assert first.returncode == 0, first.stderr
    values = _read_env(env_file)
    people = json.loads((REPO_ROOT / "deploy" / "local" / "oidc_people.json").read_text(encoding="utf-8"))
    passwords = {f"LOA_OIDC_PASSWORD_{p['username'].upper().replace('.', '_')}" for p in people}
    assert set(values) == {
        "LOA_MODE",
        "LOA_OIDC_ISSUER",
        "LOA_OIDC_CLIENT_ID",
        "LOA_OIDC_CLIENT_SECRET",
        "LOA_OIDC_PROVIDER_SECRET",
        *passwords,
    }
    assert values["LOA_OIDC_ISSUER"] == "http://127.0.0.1:5556/"
    secrets = [values[k] for k in ("LOA_OIDC_CLIENT_SECRET", "LOA_OIDC_PROVIDER_SECRET", *passwords)]
    assert len(set(secrets)) == len(secrets) and min(map(len, secrets)) >= 24
    assert not any(secret in first.stdout + first.stderr for secret in secrets)
    assert _bash("ensure_oidc_env", tmp_path, LOA_ENV_FILE=str(env_file)).returncode == 0
    assert _read_env(env_file) == values  # kept: a second start changes no password


def test_a_port_taken_by_another_process_is_named_in_the_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        taken = _bash(f"require_free_port kafka {port}", tmp_path)
    assert taken.returncode == 1
    assert f"port {port} (needed by kafka) is already taken" in taken.stderr
    free = _bash(f"require_free_port kafka {port}", tmp_path)
    assert free.returncode == 0, free.stderr


PACKAGES = REPO_ROOT / "deploy" / "local" / "system_packages.sh"


def _packages(scope: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/bash", str(PACKAGES), scope, "--check"],
        capture_output=True,
        text=True,
        env={"PATH": str(path)},
        check=False,
    )


def test_missing_test_packages_are_named_with_why_and_the_apt_get_line(tmp_path: Path) -> None:
    """A machine with what `make run` needs but not docker-compose and Chromium (the README's path:
    `make run` then `make test`)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in ("ss", "pgrep", "make", "git", "gcc", "java", "mvn", "npm"):
        (bin_dir / command).symlink_to("/bin/true")
    assert _packages("run", bin_dir).returncode == 0
    missing = _packages("test", bin_dir)
    assert missing.returncode == 1
    assert "docker-compose (package docker-compose): tests/unit/test_compose.py" in missing.stderr
    assert "chromium (package chromium): the browser tests" in missing.stderr
    assert "apt-get install -y --no-install-recommends docker-compose chromium" in missing.stderr


def test_ci_and_the_makefile_install_system_packages_through_the_one_script() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "system_packages.sh test" in ci
    assert "system_packages.sh run" in makefile and "system_packages.sh test" in makefile
    assert "apt-get install" not in ci, ".ci/run lists packages of its own again"


def test_ensure_secret_appends_a_missing_key_once_0600_and_never_prints_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    env_file.write_text("LOA_API_TOKEN=giu-nguyen-gia-tri-cu")  # a file without its last newline
    env_file.chmod(0o600)
    first = _bash("ensure_secret LOA_KAFKA_PASSWORD_INGEST 32", tmp_path, LOA_ENV_FILE=str(env_file))
    assert first.returncode == 0, first.stderr
    values = _read_env(env_file)
    assert values["LOA_API_TOKEN"] == "giu-nguyen-gia-tri-cu"
    assert len(values["LOA_KAFKA_PASSWORD_INGEST"]) >= 40  # 32 random bytes, URL-safe base64
    assert values["LOA_KAFKA_PASSWORD_INGEST"] not in first.stdout + first.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    again = _bash("ensure_secret LOA_KAFKA_PASSWORD_INGEST 32", tmp_path, LOA_ENV_FILE=str(env_file))
    assert again.returncode == 0
    assert _read_env(env_file) == values
