"""Whether an exception means the job store is unreachable for a while (restart, network), not a bug.

A PostgreSQL restart shows up as a reset connection, a refused connect, asyncpg's "connection was
closed", or "the database system is starting up / shutting down" (SQLSTATE class 57P, 08); SQLite
as "database is locked". All of them pass: the work they interrupted is worth keeping and retrying,
never worth failing for good.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from loa.outages import DATABASE, causes, classify, loaded_asyncpg

STORE_UNAVAILABLE = "store_unavailable"
"""The code of a delivery error caused by the job store, not by the platform."""


def is_store_outage(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the store cannot be reached just now.

    ``loa.outages.classify`` names the dependency: a database outage is the store's; one of MinIO
    or Kafka (a media read's refused connection) is not, and is never logged as the store's. A
    bare ``OSError`` (reset, refused, timed out, broken pipe) that none of their client libraries
    raised, or an invalidated connection, is still taken for the store's: the work it cut short
    is worth keeping and retrying.
    """
    outage = classify(error)
    if outage is not None:
        return outage is DATABASE
    return any(
        isinstance(link, OSError) or (isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated)
        for link in causes(error)
    )


def is_database_outage(error: BaseException) -> bool:
    """A store outage raised by the database layer itself. A bare ``OSError`` may be a platform's;
    one raised inside the database driver (asyncpg's reset or refused connect reaches callers
    unwrapped) is the store's."""
    if not is_store_outage(error):
        return False
    raised_by_the_store = isinstance(
        error, (sa_exc.SQLAlchemyError, *loaded_asyncpg("PostgresError", "InterfaceError"))
    )
    return raised_by_the_store or classify(error) is DATABASE


def log_failure(log: logging.Logger, error: Exception, what: str) -> None:
    """A store outage in one line (it is expected to pass); anything else with its traceback."""
    if is_store_outage(error):
        log.warning("%s: job store unavailable (%s)", what, type(error).__name__)
    else:
        log.error(what, exc_info=error)
