"""X accounts on OAuth 2.0 user tokens: Bearer user auth, refresh with rotation, reuse refused."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image

from loa.channels import Account, AuthError, Secret
from loa.events import Content, MediaRef, Target
from loa.testing.context import FakeContext
from services.sandbox import x as emulator
from services.sandbox.frame import sandbox as frame
from services.x.adapter import XAdapter
from services.x.settings import XSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def adapter(sandbox_url: str, context: FakeContext) -> XAdapter:
    return XAdapter(context, XSettings(x_api_url=f"{sandbox_url}/x"))


def _authorise(sandbox_url: str) -> tuple[dict[str, str], dict[str, Any]]:
    emulator.state.__init__()  # type: ignore[misc]
    app = {"client_id": f"c-{uuid.uuid4().hex[:8]}", "client_secret": uuid.uuid4().hex}
    pair = httpx.post(
        f"{sandbox_url}/x/_oauth2_users", json={"id": "7777", "username": "bothongtin", **app}
    ).json()
    return app, pair


def _account(app: dict[str, str], pair: dict[str, Any]) -> Account:
    creds = {
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "oauth2_access_token": pair["access_token"],
        "oauth2_refresh_token": pair["refresh_token"],
    }
    return Account("x", "bo-tttt", {k: Secret(v) for k, v in creds.items()})


def _content(context: FakeContext, n: int) -> Content:
    data = io.BytesIO()
    Image.new("RGB", (320, 200), "darkred").save(data, "JPEG")
    stored = context.media.put_stream(io.BytesIO(data.getvalue()), "image/jpeg")
    image = MediaRef(
        key=stored.key, sha256=stored.sha256, content_type="image/jpeg", size=stored.size, alt="Hội nghị"
    )
    return Content(
        id=f"tb-{uuid.uuid4().hex[:10]}",
        version=1,
        title="Thông báo",
        summary=f"Thông báo số {n}: Bộ Thông tin và Truyền thông tổ chức họp báo tại Đà Nẵng.",
        unit="Văn phòng Bộ",
        approved_by="Nguyễn Văn Đức",
        approved_at=datetime.now(UTC),
        media=[image],
        targets=[Target(channel="x", account="bo-tttt")],
    )


async def test_an_expired_access_token_is_refreshed_once_for_concurrent_posts(
    adapter: XAdapter, context: FakeContext, sandbox_url: str
) -> None:
    app, pair = _authorise(sandbox_url)
    account = _account(app, pair)
    first = _content(context, 0)
    await adapter.publish(await adapter.render(first, first.targets[0], account), account)
    httpx.post(f"{sandbox_url}/x/_expire_oauth2")

    contents = [_content(context, n) for n in range(1, 7)]
    posts = [await adapter.render(c, c.targets[0], account) for c in contents]
    results = await asyncio.gather(*(adapter.publish(p, account) for p in posts))

    assert emulator.state.refreshes == 1
    assert len({r.external_id for r in results}) == 6
    tweets = [emulator.state.tweets[r.external_id] for r in results]
    assert {t["author_id"] for t in tweets} == {"7777"} and all(t["media_ids"] for t in tweets)
    stored = context.credentials[("x", "bo-tttt")]
    assert stored["oauth2_refresh_token"].reveal() != pair["refresh_token"]  # rotated and saved
    assert stored["oauth2_refresh_token"].reveal() in emulator.state.refresh
    assert "oauth2_expires_at" in stored
    assert not any(r.kind == "oauth2_refresh_refused" for r in frame.list("x"))


async def test_a_reused_refresh_token_is_refused_and_a_person_must_reauthorise(
    adapter: XAdapter, context: FakeContext, sandbox_url: str
) -> None:
    app, pair = _authorise(sandbox_url)
    # Someone else (another tool with the same keys) already spent this refresh token.
    spent = httpx.post(
        f"{sandbox_url}/x/2/oauth2/token",
        auth=(app["client_id"], app["client_secret"]),
        data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
    )
    assert spent.status_code == 200
    httpx.post(f"{sandbox_url}/x/_expire_oauth2")
    account = _account(app, pair)
    content = _content(context, 1)
    with pytest.raises(AuthError, match="re-authorise") as raised:
        await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    text = str(raised.value)
    assert pair["refresh_token"] not in text and app["client_secret"] not in text
    assert [r.data["reused"] for r in frame.list("x", "oauth2_refresh_refused")] == [True]
    assert context.saves == 0  # nothing overwrote the stored pair
