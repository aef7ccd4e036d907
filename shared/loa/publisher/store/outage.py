"""Whether an exception means the job store is unreachable for a while (restart, network), not a bug.

A PostgreSQL restart shows up as a reset connection, a refused connect, asyncpg's "connection was
closed", or "the database system is starting up / shutting down" (SQLSTATE class 57P, 08); SQLite
as "database is locked". All of them pass: the work they interrupted is worth keeping and retrying,
never worth failing for good.
"""

from __future__ import annotations

import logging

import asyncpg
from sqlalchemy import exc as sa_exc

from loa.outages import DATABASE, DATABASE_ERRORS, classify

STORE_UNAVAILABLE = "store_unavailable"
"""The code of a delivery error caused by the job store, not by the platform."""

_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionResetError, ConnectionRefusedError, TimeoutError, BrokenPipeError
    *DATABASE_ERRORS,
)


def is_store_outage(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the store cannot be reached just now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGES):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def is_database_outage(error: BaseException) -> bool:
    """A store outage raised by the database layer itself. A bare ``OSError`` may be a platform's;
    one raised inside the database driver (asyncpg's reset or refused connect reaches callers
    unwrapped) is the store's."""
    if not is_store_outage(error):
        return False
    raised_by_the_store = isinstance(
        error, sa_exc.SQLAlchemyError | asyncpg.PostgresError | asyncpg.InterfaceError
    )
    return raised_by_the_store or classify(error) is DATABASE


def log_failure(log: logging.Logger, error: Exception, what: str) -> None:
    """A store outage in one line (it is expected to pass); anything else with its traceback."""
    if is_store_outage(error):
        log.warning("%s: job store unavailable (%s)", what, type(error).__name__)
    else:
        log.error(what, exc_info=error)
