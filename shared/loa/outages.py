"""A dependency outage seen from an HTTP API: which one, and the one JSON answer every service gives.

Every API error of Loa has one envelope, ``{"error": {"code", "message", "fields"}}`` (built here
by ``error_response``). An exception that means Kafka, the object store or the database cannot be
reached becomes a 503 with ``Retry-After`` and a one-line message; the exception itself goes to
the log only.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import urllib3.exceptions
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from minio.error import ServerError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
"""What a 503 asks the client to wait: outages of the local stack last seconds (a restart)."""


@dataclass(frozen=True)
class Outage:
    dependency: str
    """As named in readiness reports: ``kafka``, ``object_store``, ``database``."""
    code: str
    message: str


KAFKA = Outage("kafka", "broker_unavailable", "the message broker is unreachable, try again shortly")
OBJECT_STORE = Outage(
    "object_store", "object_store_unavailable", "object store unreachable, try again shortly"
)
DATABASE = Outage("database", "database_unavailable", "database unreachable, try again shortly")

ASYNCPG_OUTAGES = (
    "PostgresConnectionError",
    "InterfaceError",  # "connection was closed in the middle of operation"
    "CannotConnectNowError",  # 57P03 "the database system is starting up / shutting down"
    "AdminShutdownError",  # 57P01 the server is stopping
)
"""asyncpg's exceptions (by name) that mean PostgreSQL cannot be reached just now."""


def loaded_asyncpg(*names: str) -> tuple[type[Exception], ...]:
    """These asyncpg exception classes if asyncpg is loaded, else none: a process on SQLite never
    imports it (~3.5 MB resident, bench/rss.py) and so cannot have raised them. SQLAlchemy's
    PostgreSQL dialect imports it when an engine on PostgreSQL is made."""
    asyncpg = sys.modules.get("asyncpg")
    return tuple(getattr(asyncpg, name) for name in names) if asyncpg is not None else ()


def database_errors() -> tuple[type[Exception], ...]:
    """What SQLAlchemy and its drivers raise when the database cannot be reached just now."""
    return (
        OperationalError,  # SQLite: "database is locked"
        InterfaceError,
        DisconnectionError,
        PoolTimeoutError,  # the pool waited for a connection in vain
        *loaded_asyncpg(*ASYNCPG_OUTAGES),
    )


def _causes() -> tuple[tuple[tuple[type[Exception], ...], Outage], ...]:
    return (
        ((urllib3.exceptions.HTTPError, ServerError), OBJECT_STORE),  # what the minio SDK raises
        (database_errors(), DATABASE),
        ((KafkaConnectionError, KafkaTimeoutError), KAFKA),
    )


def outage_types() -> tuple[type[Exception], ...]:
    """Exception classes that mean an outage (for exception handlers)."""
    return (*(t for types, _ in _causes() for t in types), OSError)


_PACKAGES = {
    "aiokafka": KAFKA,
    "urllib3": OBJECT_STORE,
    "minio": OBJECT_STORE,
    "sqlalchemy": DATABASE,
    "asyncpg": DATABASE,
    "aiosqlite": DATABASE,
}
"""Whose code raised a bare ``OSError``: asyncpg's refused connection reaches callers unwrapped."""


def _raised_in(exc: BaseException) -> Outage | None:
    """The outage of the client library deepest in ``exc``'s traceback, if any."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        package = str(tb.tb_frame.f_globals.get("__name__", "")).partition(".")[0]
        found = _PACKAGES.get(package, found)
        tb = tb.tb_next
    return found


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it was raised from or while handling, and so on (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException) -> Outage | None:
    """The outage ``exc`` (or what it was raised from) means, or None if it is not one."""
    known = _causes()
    for link in causes(exc):
        for types, outage in known:
            if isinstance(link, types):
                return outage
    for link in causes(exc):
        if isinstance(link, OSError):  # ConnectionError and TimeoutError are OSErrors
            return _raised_in(link)
    return None


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one error envelope of every Loa HTTP API."""
    return JSONResponse(error_body(code, message, fields), status_code=status, headers=headers)


def outage_response(outage: Outage) -> JSONResponse:
    return error_response(503, outage.code, outage.message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def unexpected_error_response(exc: BaseException, where: str) -> JSONResponse:
    """503 for an outage, else a JSON 500; the exception (with its repr) goes to the log only."""
    outage = classify(exc)
    if outage is not None:
        log.warning("%s: %s unavailable: %s", where, outage.dependency, type(exc).__name__, exc_info=exc)
        return outage_response(outage)
    log.error("%s failed", where, exc_info=exc)
    return error_response(500, "internal_error", "an internal error occurred; it was logged")


async def answer_unexpected(request: Request, exc: Exception) -> Response:
    """The exception handler of ``unexpected_error_response``, naming the request in the log."""
    return unexpected_error_response(exc, f"{request.method} {request.url.path}")


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def handle_unexpected(app: Starlette, handler: ExceptionHandler = answer_unexpected) -> None:
    """Answer outages and any other unexpected exception of ``app`` with ``handler``.

    Each outage type gets its own registration: Starlette answers those inside the app, once
    logged by the handler, while a handler of ``Exception`` runs in its outermost middleware,
    which re-raises what it answered (the server logs it again, traceback and all). asyncpg is
    imported here: these apps may run on PostgreSQL, whose engine is made later, at their start.
    """
    import asyncpg  # noqa: F401 - loaded, so outage_types() has its errors

    for outage_type in outage_types():
        app.add_exception_handler(outage_type, handler)
    app.add_exception_handler(Exception, handler)
