"""Connect an account through the tracker and a platform's consent in the sandbox, as a browser
would (the binding cookie kept by the tracker's client), and the refusals every flow must give."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI

from loa.events import SetAccount, parse_command
from loa.publisher.sealing import load_cipher, open_from_transit
from loa.settings import LoaSettings
from services.tracker.connect import Connects
from services.tracker.settings import TrackerSettings
from tests.integration.tracker.support import (
    auth,
    command_records,
    create_topics,
    running_tracker,
    tracker_settings,
)

UNIT = "Sở Thông tin và Truyền thông Đà Nẵng"


def sandbox_urls(sandbox_url: str) -> dict[str, str]:
    """Every Connect URL setting of the tracker, at this test's sandbox."""
    return {
        "zalo_oauth_url": f"{sandbox_url}/zalo/oauth",
        "facebook_dialog_url": f"{sandbox_url}/facebook",
        "facebook_graph_url": f"{sandbox_url}/graph",
        "youtube_auth_url": f"{sandbox_url}/o/oauth2/v2/auth",
        "youtube_token_url": f"{sandbox_url}/token",
        "youtube_api_url": sandbox_url,
        "x_authorize_url": f"{sandbox_url}/x/i/oauth2/authorize",
        "x_api_url": f"{sandbox_url}/x",
    }


@contextlib.asynccontextmanager
async def connect_tracker(
    settings: LoaSettings, db_url: str, sandbox_url: str
) -> AsyncIterator[tuple[TrackerSettings, FastAPI, httpx.AsyncClient]]:
    """A tracker (API only) whose Connect goes to the sandbox."""
    await create_topics(settings)
    ts = tracker_settings(
        settings,
        db_url,
        tracker_consume=False,
        credentials_key=Fernet.generate_key().decode(),
        **sandbox_urls(sandbox_url),
    )
    async with running_tracker(ts) as (app, client):
        yield ts, app, client


async def consent(
    client: httpx.AsyncClient, channel: str, body: dict[str, Any]
) -> tuple[str, dict[str, list[str]]]:
    """Start Connect as the admin and pass the platform's consent: the callback path with its query,
    and what the authorisation request asked."""
    r = await client.post(f"/api/v1/accounts/connect/{channel}", headers=auth("admin"), json=body)
    assert r.status_code == 200, r.text
    authorize = r.json()["authorize_url"]
    async with httpx.AsyncClient() as browser:
        granted = await browser.get(authorize, follow_redirects=False)
    assert granted.status_code == 302, granted.text
    back = urlsplit(granted.headers["location"])
    assert back.path == f"/accounts/connect/{channel}/callback"
    return f"{back.path}?{back.query}", parse_qs(urlsplit(authorize).query)


async def sealed_credentials(ts: TrackerSettings, channel: str, name: str) -> dict[str, str]:
    """The credentials the publisher's ``account.set`` command carries, opened."""
    commands = [parse_command(value) for _, value in await command_records(ts)]
    (command,) = [c for c in commands if isinstance(c, SetAccount) and c.payload.account == name]
    assert command.payload.credentials is not None
    return open_from_transit(load_cipher(ts), channel, name, command.payload.credentials)


async def account_changes(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/audit", headers=auth("admin"), params={"action": "account_change"})
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def assert_refusals(
    app: FastAPI,
    client: httpx.AsyncClient,
    sandbox_url: str,
    channel: str,
    body: dict[str, Any],
    wrong_secret: dict[str, Any],
) -> list[str]:
    """A forged state, an unbound browser, an expired state, a refused consent and a refused code
    each connect nothing; the last two are audited with the platform's cause. The pages' texts."""
    pages = []
    callback, _ = await consent(client, channel, body)
    path, _, query = callback.partition("?")
    forged = {k: v[0] for k, v in parse_qs(query).items()} | {"state": "giả-mạo"}
    assert (await client.get(f"{path}?{urlencode(forged)}")).status_code == 403
    async with httpx.AsyncClient(base_url=str(client.base_url)) as other:
        assert (await other.get(callback)).status_code == 403, "another browser has no binding cookie"

    connects: Connects = app.state.connects
    expired, _ = await consent(client, channel, body)
    connects.clock = lambda: time.monotonic() + connects.ttl_s + 1  # back 10 minutes and a second later
    try:
        assert (await client.get(expired)).status_code == 403, "an expired state is refused"
    finally:
        connects.clock = time.monotonic

    async with httpx.AsyncClient(base_url=sandbox_url) as sandbox:
        await sandbox.post("/_sandbox/oauth/deny", json={"platform": channel})
    denied, _ = await consent(client, channel, body)
    assert "error=access_denied" in denied
    page = await client.get(denied)
    assert page.status_code == 400 and "access_denied" in page.text, page.text
    pages.append(page.text)

    failing, _ = await consent(client, channel, body | wrong_secret)
    page = await client.get(failing)
    assert page.status_code == 502, page.text
    pages.append(page.text)

    assert (await client.get("/api/v1/accounts", headers=auth("admin"))).json() == []
    refused = [(r["outcome"], r["account"], r["reason"]) for r in await account_changes(client)]
    assert [o for o, _, _ in refused] == ["refused", "refused"], refused
    assert all(a == body["name"] for _, a, _ in refused)
    assert any("access_denied" in r for _, _, r in refused)
    return pages
