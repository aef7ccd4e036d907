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
from loa.kafka_acl import ADMIN, USERS, user_of
from loa.settings import REPO_ROOT

pytestmark = pytest.mark.unit

COMPOSE = REPO_ROOT / "docker-compose.yml"
INFRASTRUCTURE = {"kafka", "minio", "postgres", "storage-setup", "hydra", "oidc-login", "mailpit"}
KAFKA_SETUP = {"kafka-certs", "kafka-setup"}
"""One-shot steps before the services: the CA and certificate, the principals, ACLs and topics."""
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
    "LOA_KAFKA_ADMIN_PASSWORD": "compose-check-kafka-admin",
    **{user.password_key: f"compose-check-{user.service}" for user in USERS},
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
    assert "LOA_S3_" in result.stderr or "LOA_KAFKA_ADMIN_PASSWORD" in result.stderr


def test_every_loa_service_is_built_from_the_dockerfile_and_runs_an_existing_module() -> None:
    services = _config()["services"]
    loa_services = {name: s for name, s in services.items() if name not in INFRASTRUCTURE | KAFKA_SETUP}
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
    loa_services = {name: s for name, s in services.items() if name not in INFRASTRUCTURE | KAFKA_SETUP}
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
        if name in INFRASTRUCTURE | KAFKA_SETUP:
            continue
        env = service["environment"]
        user = store_user(name)
        assert env.get("LOA_S3_ACCESS_KEY") == (user.access_key if user else None), name
        assert not any(secret in str(value) for value in env.values() for secret in admin_secrets), name
    assert services["storage-setup"]["command"] == ["python", "deploy/local/storage_users.py", "all"]
    tracker_db = services["tracker"]["environment"]["LOA_DATABASE_URL"]
    assert tracker_db.startswith("postgresql+asyncpg://loa_tracker:") and tracker_db.endswith("/loa_tracker")


def test_kafka_is_secured_and_each_service_signs_in_as_its_own_principal() -> None:
    services = _config()["services"]
    kafka = services["kafka"]["environment"]
    assert set(kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")) == {
        "CLIENT:SASL_SSL",
        "DOCKER:SASL_SSL",
        "CONTROLLER:SASL_PLAINTEXT",
    }
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert kafka["KAFKA_SUPER_USERS"] == f"User:{ADMIN}"
    for step in ("kafka-certs", "kafka-setup"):
        script = services[step]["command"][1]
        assert (REPO_ROOT / script).is_file(), f"{step}: {script} does not exist"
    for name, service in services.items():
        user = user_of(name)
        env = service.get("environment", {})
        if user is None:
            assert "LOA_KAFKA_SASL_USERNAME" not in env, name
            continue
        assert env["LOA_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["LOA_KAFKA_SASL_USERNAME"] == user.name, name
        assert env["LOA_KAFKA_SASL_PASSWORD"] == DUMMY_ENV[user.password_key], name
        assert "kafka-tls:/kafka-tls:ro" in " ".join(str(v) for v in service["volumes"]) or any(
            v.get("source") == "kafka-tls" for v in service["volumes"] if isinstance(v, dict)
        ), name


def test_the_store_setup_gets_every_store_secret() -> None:
    """``storage_users.py all`` stops naming the first secret it lacks (``loa.access.storage``)."""
    setup = _config()["services"]["storage-setup"]["environment"]
    assert set(secret_settings()) <= set(setup), sorted(set(secret_settings()) - set(setup))


def test_the_website_checks_the_listeners_page_view_token_in_the_trackers_table() -> None:
    """services/website/README.md, "Page views": the website reads the token table where ``loa tokens
    issue`` writes it (the tracker's database) with its own role, and the listener sends its token."""
    services = _config()["services"]
    tokens = services["website"]["environment"]["LOA_ACCESS_DATABASE_URL"]
    assert tokens.startswith("postgresql+asyncpg://loa_publisher:") and tokens.endswith(
        "@postgres:5432/loa_tracker"
    )
    assert services["tracker"]["environment"]["LOA_DATABASE_URL"].endswith("/loa_tracker")
    listener = services["listener"]["environment"]
    assert listener["LOA_WEBSITE_VIEWS_URL"] == "http://website:8082"
    assert "LOA_WEBSITE_VIEWS_TOKEN" in listener
    assert "LOA_ACCESS_DATABASE_URL" not in listener and "LOA_DATABASE_URL" not in listener
