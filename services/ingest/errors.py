"""One JSON shape for every 4xx/5xx: ``{"error": {"code", "message", "fields": [{"field", "reason"}]}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from loa.outages import Outage, error_body, error_response, handle_unexpected, outage_response


class ApiError(Exception):
    """An error answer: HTTP status, a stable code, a message and the fields at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.fields)

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.fields, self.headers)


class OutageError(ApiError):
    """A dependency outage met inside a handler, answered as ``loa.outages`` answers every outage."""

    def __init__(self, outage: Outage) -> None:
        super().__init__(503, outage.code, outage.message)
        self.outage = outage

    def response(self) -> JSONResponse:
        return outage_response(self.outage)


def field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """``[{"field": "payload.title", "reason": "Field required"}, ...]`` (no input echoed back)."""
    fields = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in item["loc"])
        field = ".".join(p for p in (prefix, location) if p) or "(body)"
        reason = item["msg"][:500]
        fields.append({"field": field, "reason": reason})
    return fields


def validation_error(error: ValidationError, prefix: str = "") -> ApiError:
    fields = field_errors(error, prefix)
    summary = "; ".join(f"{f['field']}: {f['reason']}" for f in fields[:5])
    return ApiError(422, "validation_error", f"invalid content: {summary}"[:1000], fields)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


def install(app: FastAPI) -> None:
    """Route FastAPI's own errors through the same shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]), "reason": str(e["msg"])[:500]} for e in exc.errors()
        ]
        return ApiError(422, "validation_error", "invalid request", fields).response()

    handle_unexpected(app)  # a dependency outage → 503 + Retry-After; anything else → a JSON 500

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        return ApiError(exc.status_code, code, str(exc.detail)).response()
