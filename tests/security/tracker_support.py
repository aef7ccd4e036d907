"""A tracker app in this process (no consumers), reached through httpx's ASGI transport.

The transport lets a test choose the client's address, which the login throttle counts by.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from loa.settings import LoaSettings
from services.tracker.app import create_app
from services.tracker.auth import SESSION_COOKIE
from tests.integration.tracker.support import TOKENS, tracker_settings


@contextlib.asynccontextmanager
async def tracker_app(settings: LoaSettings, db_url: str, **overrides: Any) -> AsyncIterator[FastAPI]:
    app = create_app(tracker_settings(settings, db_url, tracker_consume=False, **overrides))
    async with app.router.lifespan_context(app):
        yield app


def browser(app: FastAPI, address: str = "192.0.2.10") -> httpx.AsyncClient:
    """A client from ``address`` (a documentation address, RFC 5737)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50_000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8081")


async def sign_in(client: httpx.AsyncClient, token: str = TOKENS["operator"]) -> httpx.Response:
    return await client.post("/login", data={"token": token, "next": "/"})


def session_of(response: httpx.Response) -> str:
    """The session cookie the answer sets."""
    value = response.cookies.get(SESSION_COOKIE)
    assert value, response.headers.get("set-cookie")
    return value


def with_session(value: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={value}"}
