"""The stores' secrets: made once into .env.local with mode 0600, added to a file of an older release."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from dotenv import dotenv_values

from loa.access.storage import secret_settings
from loa.settings import REPO_ROOT

LIB = REPO_ROOT / "deploy" / "local" / "lib.sh"


def ensure_env_file(env_file: Path, cache: Path) -> None:
    subprocess.run(
        ["bash", "-c", f'source "{LIB}" && ensure_env_file'],
        env={"PATH": "/usr/bin:/bin", "LOA_ENV_FILE": str(env_file), "LOA_CACHE_DIR": str(cache)},
        check=True,
        capture_output=True,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_env_file_holds_every_store_secret_and_is_private(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    ensure_env_file(env_file, tmp_path / "cache")
    values = dotenv_values(env_file)
    assert mode(env_file) == 0o600
    assert all(len(values.get(key) or "") >= 32 for key in secret_settings())
    assert len({values[key] for key in secret_settings()}) == len(secret_settings())  # each its own


def test_an_older_env_file_gets_the_missing_secrets_and_keeps_its_own(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    env_file.write_text(
        "LOA_S3_ACCESS_KEY=loa-dev\nLOA_PG_PASSWORD=chosen-by-the-operator-long"
    )  # no newline
    env_file.chmod(0o600)
    ensure_env_file(env_file, tmp_path / "cache")
    ensure_env_file(env_file, tmp_path / "cache")  # idempotent
    values = dotenv_values(env_file)
    assert values["LOA_S3_ACCESS_KEY"] == "loa-dev"
    assert values["LOA_PG_PASSWORD"] == "chosen-by-the-operator-long"
    assert set(secret_settings()) <= values.keys()
    keys = [line.split("=", 1)[0] for line in env_file.read_text().splitlines()]
    assert len(keys) == len(set(keys))  # nothing appended twice
    assert mode(env_file) == 0o600
