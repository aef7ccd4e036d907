"""A job store outage is transient, named as the store's, and never taken for a platform's refusal."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from loa.events import ErrorClass
from loa.publisher.store.codec import error_from_exception
from loa.publisher.store.outage import STORE_UNAVAILABLE, is_store_outage


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
