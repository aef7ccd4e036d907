"""The two-person rule in the dashboard, in headless Chromium: an editor of the Sở Y tế signs in
through the local OpenID Connect provider and submits two contents (with her own ID token, which
the ingest verifies); a spokesperson of the province signs in, approves one and rejects the other
with a reason on "Chờ phê duyệt". Screenshots to docs/img with ``LOA_UPDATE_SCREENSHOTS=1``.

Real services: the ingest and the tracker served by uvicorn, Kafka, MinIO and the provider (Ory
Hydra) of the local stack.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from loa.events import AuditRecorded, ContentApproved, parse_content_event, topics
from loa.settings import LoaSettings
from services.ingest.app import create_app as ingest_app
from services.ingest.db import AwaitingApproval, IngestDb
from services.ingest.settings import IngestSettings
from services.tracker.auth import CSRF_HEADER, SESSION_COOKIE
from services.tracker.context import Tracker
from tests.conftest import Stack
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.e2e.test_tracker_oidc_sign_in import at_provider
from tests.integration.ingest.conftest import ingest_settings
from tests.integration.tracker.support import running_tracker, tracker_settings
from tests.support.kafka import read_topic
from tests.support.live import serve
from tests.support.oidc import ISSUER, Client, oidc_client, oidc_provider, password
from tests.support.payloads import submitted_payload

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
__all__ = ["oidc_client", "oidc_provider"]  # fixtures, used by name
EDITOR, SPOKESPERSON = "bientap.soyte", "phatngon.ubnd"
UNITS = {"ubnd-tinh": None, "so-y-te": "ubnd-tinh"}
ACCOUNT = "trang-so-y-te"
APPROVED_TITLE = "Sở Y tế khuyến cáo phòng chống sốt xuất huyết mùa mưa"
REJECTED_TITLE = "Đề xuất điều chỉnh giờ tiếp dân tại Bệnh viện Đa khoa tỉnh"
REASON = "Cần đối chiếu lại số liệu với Phòng Kế hoạch – Đầu tư trước khi đăng"


@dataclass
class Office:
    ingest: str
    ingest_settings: IngestSettings
    tracker: str
    tracker_state: Tracker
    browser: Any


@asynccontextmanager
async def office(stack: Stack, settings: LoaSettings, tmp: Path, client: Client) -> AsyncIterator[Office]:
    """An ingest under the two-person rule for the province, a tracker whose pages call it, a browser."""
    from playwright.async_api import async_playwright

    shared: dict[str, Any] = {
        "units": UNITS,
        "account_units": {f"website/{ACCOUNT}": "so-y-te"},
        "access_database_url": f"sqlite+aiosqlite:///{tmp / 'access.db'}",
        "oidc_client_id": client.client_id,
    }
    ingest, _ = ingest_settings(stack, tmp)
    ingest = ingest.model_copy(update=shared | {"oidc_issuer": ISSUER, "two_person_units": ["ubnd-tinh"]})
    with serve(ingest_app(ingest)) as ingest_url:
        config = tracker_settings(
            settings,
            f"sqlite+aiosqlite:///{tmp / 'tracker.db'}",
            tracker_consume=False,
            tracker_tokens={},
            tracker_ingest_url=ingest_url,
            **(shared | client.settings()),
        )
        async with running_tracker(config) as (app, http), async_playwright() as pw:
            base = str(http.base_url).rstrip("/")
            client.register(base)
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                yield Office(ingest_url, ingest, base, app.state.tracker, browser)
            finally:
                await browser.close()


async def signed_in(o: Office, username: str) -> tuple[Any, str]:
    """A browser of its own for ``username``, signed in through the provider; and its session cookie."""
    context = await o.browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await at_provider(page, o.tracker, username, password(username))
    await page.wait_for_url(f"{o.tracker}/")
    cookie = next(c["value"] for c in await context.cookies() if c["name"] == SESSION_COOKIE)
    return page, cookie


async def submit_as_person(o: Office, id_token: str, title: str) -> dict[str, Any]:
    payload = submitted_payload(f"syt-{uuid.uuid4().hex[:8]}") | {"title": title, "unit": "so-y-te"}
    payload["targets"] = [{"channel": "website", "account": ACCOUNT}]
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{o.ingest}/api/v1/contents",
            json={"payload": payload},
            headers={"Authorization": f"Bearer {id_token}"},
        )
    assert answer.status_code == 202, answer.text
    held: dict[str, Any] = answer.json()
    assert held["status"] == "awaiting_approval"
    return held


async def test_an_editor_submits_and_a_spokesperson_approves_one_and_rejects_one_in_the_dashboard(
    stack: Stack, settings: LoaSettings, tmp_path: Path, oidc_client: Client, screenshots: Path
) -> None:
    from playwright.async_api import expect

    async with office(stack, settings, tmp_path, oidc_client) as o:
        editor, editor_cookie = await signed_in(o, EDITOR)
        editor_token = await o.tracker_state.sessions.id_token(editor_cookie)
        assert editor_token is not None
        first = await submit_as_person(o, editor_token, APPROVED_TITLE)
        second = await submit_as_person(o, editor_token, REJECTED_TITLE)

        await editor.goto(f"{o.tracker}/approvals")
        cards = editor.locator("section.approval")
        await expect(cards).to_have_count(2)
        await expect(cards.first.locator(".submitter")).to_have_text(f"{EDITOR}@loa.example")
        await expect(editor.locator("section.approval .own-submission")).to_have_count(2)
        await expect(editor.locator("section.approval button")).to_have_count(0)  # not hers to decide
        await editor.screenshot(path=str(screenshots / "approvals-editor.png"), full_page=True)

        spokesperson, _ = await signed_in(o, SPOKESPERSON)
        await spokesperson.goto(f"{o.tracker}/approvals")
        await expect(spokesperson.locator("section.approval")).to_have_count(2)
        await expect(spokesperson.locator("section.approval").first).to_contain_text("Sở Y tế khuyến cáo")
        # what the website would publish, rendered by its adapter in the ingest
        previews = spokesperson.locator("details.channel-preview")
        await expect(previews).to_have_count(2)
        await previews.first.locator("summary").click()
        await expect(previews.first).to_contain_text(f"website/{ACCOUNT}")
        await spokesperson.screenshot(path=str(screenshots / "approvals-spokesperson.png"), full_page=True)

        # a browser write without the CSRF header is refused before anything reaches the ingest
        url = f"{o.tracker}/api/v1/approvals/{first['id']}/1/approve"
        forged = await spokesperson.request.post(url)
        assert forged.status == 403 and CSRF_HEADER in await forged.text()

        approved_card = spokesperson.locator(f"section.approval[data-awaiting='{first['id']}']")
        await approved_card.locator(".approve-form button").click()
        await expect(approved_card).to_have_count(0)
        rejected_card = spokesperson.locator(f"section.approval[data-awaiting='{second['id']}']")
        await rejected_card.locator("input[name=reason]").fill(REASON)
        await rejected_card.locator(".reject-form button").click()
        await expect(spokesperson.locator("#approvals-empty")).to_be_visible()

        # the approval went out as the spokesperson, the rejection with its reason, both audited
        records = await read_topic(
            o.ingest_settings.kafka_bootstrap, o.ingest_settings.topic(topics.CONTENT), 1, wait_s=10
        )
        events = [parse_content_event(r.value) for r in records]
        assert [(e.payload.id, e.payload.approved_by) for e in events if isinstance(e, ContentApproved)] == [
            (first["id"], f"{SPOKESPERSON}@loa.example")
        ]
        db = IngestDb(o.ingest_settings.database_url)
        async with db.sessions() as session:
            rows = {r.id: r for r in (await session.scalars(select(AwaitingApproval))).all()}
        await db.close()
        assert (rows[second["id"]].decision, rows[second["id"]].decided_by, rows[second["id"]].reason) == (
            "rejected",
            f"{SPOKESPERSON}@loa.example",
            REASON,
        )
        audit = await read_topic(
            o.ingest_settings.kafka_bootstrap, o.ingest_settings.topic(topics.AUDIT), 4, wait_s=10
        )
        acts = {
            (a.payload.action.value, a.payload.content_id, a.payload.actor, a.payload.actor_kind.value)
            for a in (AuditRecorded.model_validate_json(r.value) for r in audit)
        }
        assert {
            ("approve", first["id"], f"{SPOKESPERSON}@loa.example", "person"),
            ("reject", second["id"], f"{SPOKESPERSON}@loa.example", "person"),
            ("submit", first["id"], f"{EDITOR}@loa.example", "person"),
        } <= acts


async def test_the_ingest_refuses_a_forwarded_token_the_provider_did_not_sign(
    stack: Stack, settings: LoaSettings, tmp_path: Path, oidc_client: Client
) -> None:
    """The tracker cannot widen a person's authority: a token whose payload was edited (groups
    raised to admin) fails the ingest's own signature check."""
    import base64
    import json

    async with office(stack, settings, tmp_path, oidc_client) as o:
        _, cookie = await signed_in(o, EDITOR)
        token = await o.tracker_state.sessions.id_token(cookie)
        assert token is not None
        header, body, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        claims["groups"] = ["loa:admin:*"]
        raised = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.get(
                f"{o.ingest}/api/v1/awaiting",
                headers={"Authorization": f"Bearer {header}.{raised}.{signature}"},
            )
            assert answer.status_code == 401
            genuine = await http.get(
                f"{o.ingest}/api/v1/awaiting", headers={"Authorization": f"Bearer {token}"}
            )
            assert genuine.status_code == 200
