"""docker-compose.yml parses (Debian's docker-compose needs no engine for `config`) and runs only
commands that exist in the repository; every Loa service has its entry."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from loa.access.storage import secret_settings, store_user
from loa.settings import REPO_ROOT

pytestmark = pytest.mark.unit

COMPOSE = REPO_ROOT / "docker-compose.yml"
INFRASTRUCTURE = {"kafka", "minio", "postgres", "storage-setup", "hydra", "oidc-login"}
DUMMY_ENV = {
    "LOA_S3_ACCESS_KEY": "compose-check",
    "LOA_S3_SECRET_KEY": "compose-check-secret",
    "LOA_API_TOKEN": "compose-check-token",
    "LOA_CREDENTIALS_KEY": "compose-check-key",
    "LOA_OIDC_CLIENT_SECRET": "compose-check-client-secret",
    "LOA_OIDC_PROVIDER_SECRET": "compose-check-provider-secret",
    **{
        f"LOA_OIDC_PASSWORD_{who}": "compose-check-password"
        for who in ("BIENTAP_SOYTE", "PHATNGON_UBND", "VANHANH", "QUANTRI", "KHACH")
    },
    **{key: f"compose-check-{key.lower()}" for key in secret_settings()},
}


@cache
def _config() -> dict[str, Any]:
    """The resolved file, as docker-compose itself renders it."""
    docker_compose = shutil.which("docker-compose")
    assert docker_compose, "docker-compose is not installed: apt-get install -y docker-compose (.ci/run does)"
    result = subprocess.run(
        [docker_compose, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env={**os.environ, **DUMMY_ENV},
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _module_exists(module: str) -> bool:
    path = REPO_ROOT.joinpath(*module.split("."))
    return (path / "__main__.py").is_file() or path.with_suffix(".py").is_file()


def test_compose_file_is_valid() -> None:
    services = _config()["services"]
    assert set(services) >= INFRASTRUCTURE
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["minio"]["image"].startswith("minio/minio:")
    assert services["postgres"]["image"].startswith("postgres:")


def test_secrets_are_required_not_defaulted() -> None:
    env = {k: v for k, v in os.environ.items() if k not in DUMMY_ENV}
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode != 0
    assert "LOA_S3_" in result.stderr


def test_every_loa_service_is_built_from_the_dockerfile_and_runs_an_existing_module() -> None:
    services = _config()["services"]
    loa_services = {name: s for name, s in services.items() if name not in INFRASTRUCTURE}
    assert loa_services, "no Loa service in docker-compose.yml"
    for name, service in loa_services.items():
        assert Path(service["build"]["dockerfile"]).name == "Dockerfile", name
        assert "healthcheck" in service, f"{name} has no health check"
        command = service["command"]
        assert command[:2] == ["python", "-m"], f"{name}: command must be `python -m <module>`"
        assert _module_exists(command[2]), f"{name}: module {command[2]} does not exist in the repo"
    assert (REPO_ROOT / "deploy" / "Dockerfile").is_file()


def test_every_runnable_service_in_the_repository_has_a_compose_entry() -> None:
    modules = {
        command[2]
        for service in _config()["services"].values()
        if isinstance(command := service.get("command"), list) and command[:2] == ["python", "-m"]
    }
    runnable = {f"services.{p.parent.name}" for p in (REPO_ROOT / "services").glob("*/__main__.py")}
    missing = runnable - modules
    assert not missing, f"services without an entry in docker-compose.yml: {sorted(missing)}"


def test_the_compose_stack_that_wires_the_sandbox_in_says_development() -> None:
    """The code's default is production, which refuses the sandbox: this file's stack uses it."""
    services = _config()["services"]
    loa_services = {name: s for name, s in services.items() if name not in INFRASTRUCTURE}
    uses_sandbox = {
        name
        for name, s in loa_services.items()
        if name == "sandbox" or any("sandbox:" in str(v) for v in s["environment"].values())
    }
    assert {"sandbox", "facebook", "zalo", "youtube", "x", "website"} <= uses_sandbox
    for name, service in loa_services.items():
        assert service["environment"].get("LOA_MODE") == "development", name


def test_every_service_runs_as_its_own_minio_user_and_postgresql_role_never_an_admin() -> None:
    services = _config()["services"]
    admin_secrets = {DUMMY_ENV[k] for k in ("LOA_S3_SECRET_KEY", "LOA_PG_PASSWORD", "LOA_PG_OWNER_PASSWORD")}
    for name, service in services.items():
        if name in INFRASTRUCTURE:
            continue
        env = service["environment"]
        user = store_user(name)
        assert env.get("LOA_S3_ACCESS_KEY") == (user.access_key if user else None), name
        assert not any(secret in str(value) for value in env.values() for secret in admin_secrets), name
    assert services["storage-setup"]["command"] == ["python", "deploy/local/storage_users.py", "all"]
    tracker_db = services["tracker"]["environment"]["LOA_DATABASE_URL"]
    assert tracker_db.startswith("postgresql+asyncpg://loa_tracker:") and tracker_db.endswith("/loa_tracker")
