"""A job store outage is transient, named as the store's, and never taken for a platform's refusal."""

from __future__ import annotations

import socket
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from loa.events import ErrorClass
from loa.media import MediaStore
from loa.outages import causes
from loa.publisher.store.codec import error_from_exception
from loa.publisher.store.outage import STORE_UNAVAILABLE, is_database_outage, is_store_outage
from loa.settings import LoaSettings


def wrapped(cause: BaseException) -> sa_exc.DBAPIError:
    """SQLAlchemy's wrapping of a driver error, the way the asyncpg dialect raises it."""
    try:
        raise cause
    except BaseException as e:
        return sa_exc.DBAPIError("UPDATE jobs SET post=…", {}, e, connection_invalidated=True)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError(104, "Connection reset by peer"),
        ConnectionRefusedError(111, "Connect call failed"),
        wrapped(asyncpg.CannotConnectNowError("the database system is shutting down")),
        sa_exc.OperationalError("SELECT 1", {}, Exception("database is locked")),
    ],
)
def test_a_store_outage_is_recognised(error: BaseException) -> None:
    assert is_store_outage(error)


def test_a_database_outage_is_recorded_as_transient_with_the_stores_code() -> None:
    recorded = error_from_exception(
        wrapped(asyncpg.CannotConnectNowError("the database system is starting up"))
    )
    assert recorded.error_class is ErrorClass.TRANSIENT
    assert recorded.code == STORE_UNAVAILABLE
    assert recorded.message == "job store unavailable (DBAPIError); trying again"


def test_a_bug_is_not_an_outage() -> None:
    assert not is_store_outage(KeyError("tiêu đề"))
    assert not is_store_outage(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")))


def closed_port() -> int:
    """A local port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_minio_connection_is_not_a_store_outage(tmp_path: Path) -> None:
    """What the minio SDK raises when MinIO is down: a media outage, never "job store unavailable"."""
    store = MediaStore(LoaSettings(s3_endpoint=f"127.0.0.1:{closed_port()}"))
    with pytest.raises(Exception) as refused:  # whatever minio raises, as it raises it
        store.stat("sha256/" + "ab" * 32)
    assert any(isinstance(link, ConnectionRefusedError) for link in causes(refused.value))
    assert not is_store_outage(refused.value)
    assert not is_database_outage(refused.value)
    assert error_from_exception(refused.value).code != STORE_UNAVAILABLE


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://loa@127.0.0.1:{port}/loa",  # refused: asyncpg's bare OSError
        "sqlite+aiosqlite:///{tmp}/no-such-folder/jobs.db",  # sqlite3.OperationalError, wrapped
    ],
)
async def test_a_database_that_cannot_be_reached_is_a_store_outage(url: str, tmp_path: Path) -> None:
    engine = create_async_engine(url.format(port=closed_port(), tmp=tmp_path))
    try:
        with pytest.raises(Exception) as unreachable:  # as the driver raises it
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert is_store_outage(unreachable.value)
    assert is_database_outage(unreachable.value)
    assert error_from_exception(unreachable.value).code == STORE_UNAVAILABLE
