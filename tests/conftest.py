"""Fixtures shared by every test: the real local stack (Kafka, MinIO, PostgreSQL), isolated per test.

The stack is started once per session by ``deploy/local/stack.sh up`` (or reused when it already
runs); tests isolate themselves with unique topic prefixes, bucket names and databases.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from loa.settings import REPO_ROOT, LoaSettings
from loa.testing.admin import sign_in_to_kafka_as_admin, use_pg_superuser_password

# The code's default is production (real platforms only); every test talks to the sandbox. Set in
# the environment, so every settings object built here and every process a test starts inherits it.
os.environ["LOA_MODE"] = "development"
# The harness's admin path (creating and dropping test databases) is the superuser's: PGPASSWORD.
use_pg_superuser_password()


# The harness signs in to the secured broker as the admin (loa.kafka_acl.ADMIN), and so do the
# services a test starts; tests/security/test_kafka_acls.py signs in as each service's own principal.
sign_in_to_kafka_as_admin()

STACK = REPO_ROOT / "deploy" / "local" / "stack.sh"
SEAWEEDFS = REPO_ROOT / "deploy" / "local" / "seaweedfs.sh"

# The one switch of the S3 store the tests use (docs/storage.md): minio (default, the shared stack)
# or seaweedfs (its own server, deploy/local/seaweedfs.sh). Set in the environment, so the services a
# test starts see the same endpoint; its admin identity has MinIO's root keys (LOA_S3_ACCESS_KEY).
S3_BACKEND = os.environ.get("LOA_S3_BACKEND", "minio")
if S3_BACKEND not in ("minio", "seaweedfs"):
    raise pytest.UsageError(f"LOA_S3_BACKEND={S3_BACKEND!r}: expected minio or seaweedfs")
if S3_BACKEND == "seaweedfs":
    os.environ["LOA_S3_ENDPOINT"] = f"127.0.0.1:{os.environ.get('LOA_SEAWEEDFS_PORT', '8333')}"


@dataclass(frozen=True)
class Stack:
    kafka_bootstrap: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    pg_admin_url: str
    """libpq URL of the ``postgres`` database, for creating per-test databases."""


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _host_port(address: str) -> tuple[str, int]:
    parts = urlsplit(address if "//" in address else f"//{address}")
    return parts.hostname or "127.0.0.1", parts.port or 0


_TAGS: list[str] = []
"""The tags of the session's ``settings``: their topics and buckets are deleted at the end."""


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Start the real stack once (idempotent) and describe where it listens.

    Defaults: Kafka 127.0.0.1:9092, MinIO 127.0.0.1:9000, PostgreSQL 127.0.0.1:5432; another stack
    is used through ``LOA_KAFKA_BOOTSTRAP``, ``LOA_S3_ENDPOINT`` and ``LOA_PG_ADMIN_URL``.
    """
    settings = LoaSettings()
    pg_admin_url = os.environ.get("LOA_PG_ADMIN_URL", "postgresql://loa@127.0.0.1:5432/postgres")
    addresses = [settings.kafka_bootstrap.split(",")[0], pg_admin_url]
    if S3_BACKEND == "minio":
        addresses.append(settings.s3_endpoint)
    if not all(_port_open(*_host_port(a)) for a in addresses):
        subprocess.run(["bash", str(STACK), "up"], check=True, cwd=REPO_ROOT)
        # a stack started now has just written its secrets (Kafka's admin password at its first
        # start): the harness's identities are read again, before any test builds a client
        sign_in_to_kafka_as_admin()
        use_pg_superuser_password()
        settings = LoaSettings()
    if S3_BACKEND == "seaweedfs" and not _port_open(*_host_port(settings.s3_endpoint)):
        subprocess.run(["bash", str(SEAWEEDFS), "up"], check=True, cwd=REPO_ROOT)
    stack = Stack(
        kafka_bootstrap=settings.kafka_bootstrap,
        s3_endpoint=settings.s3_endpoint,
        s3_access_key=settings.s3_access_key.get_secret_value(),
        s3_secret_key=settings.s3_secret_key.get_secret_value(),
        pg_admin_url=pg_admin_url,
    )
    yield stack
    if _TAGS:  # thousands of leftovers would tax a developer's stack (see loa.testing.cleanup)
        from minio import Minio

        from loa.testing.cleanup import drop_all

        client = Minio(stack.s3_endpoint, stack.s3_access_key, stack.s3_secret_key, secure=False)
        drop_all(stack.kafka_bootstrap, client, _TAGS)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """``unique("orders")`` → ``orders-3f9a1c2b``: names no other test uses."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(stack: Stack, unique: Callable[[str], str], tmp_path: Path) -> LoaSettings:
    """Settings pointing at the real stack, with this test's own topics and buckets."""
    tag = unique("t")
    _TAGS.append(tag)
    return LoaSettings(
        kafka_bootstrap=stack.kafka_bootstrap,
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=stack.s3_secret_key,
        s3_media_bucket=f"{tag}-media",
        s3_website_bucket=f"{tag}-web",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
        topic_prefix=f"{tag}.",
    )


@pytest.fixture
def minio_client(stack: Stack):
    from minio import Minio

    return Minio(stack.s3_endpoint, stack.s3_access_key, stack.s3_secret_key, secure=False)


@pytest.fixture
def archive_bucket(minio_client, unique: Callable[[str], str]) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An archive bucket of this test's own, with object lock and a default retention of a day
    (as the setup makes ``loa-archive``); emptied at the end with the governance bypass."""
    from loa.archive.retention import Period
    from loa.archive.store import ArchiveStore
    from loa.testing.cleanup import drop_locked_bucket

    name = unique("archive")
    ArchiveStore(minio_client, name).ensure_bucket(Period(days=1))
    yield name
    drop_locked_bucket(minio_client, name)


@pytest.fixture
def pg_url(stack: Stack, unique: Callable[[str], str]) -> Iterator[str]:
    """A fresh PostgreSQL database for this test; SQLAlchemy async URL (asyncpg)."""
    import psycopg

    name = unique("loa_test").replace("-", "_")
    with psycopg.connect(stack.pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = stack.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    with psycopg.connect(stack.pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test on both stores Loa supports: SQLite (default) and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def kafka_admin(stack: Stack) -> AsyncIterator[object]:
    from aiokafka.admin import AIOKafkaAdminClient

    from loa.testing.kafka_client import client_options

    admin = AIOKafkaAdminClient(**client_options(stack.kafka_bootstrap))
    await admin.start()
    yield admin
    await admin.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where browser tests save their screenshots: a temporary folder, so a test run leaves the
    repository as it was; ``docs/img`` (shown by the READMEs) with ``LOA_UPDATE_SCREENSHOTS=1``."""
    if os.environ.get("LOA_UPDATE_SCREENSHOTS") == "1":
        return REPO_ROOT / "docs" / "img"
    return tmp_path
