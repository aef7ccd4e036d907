"""The daily account check renews a TikTok refresh token before it dies, and the ingest learns at
once what TikTok can never take (no video, a privacy level TikTok does not have)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from loa.channels import Account, Secret
from loa.events import Content, MediaRef, Target
from loa.testing import FakeContext
from services.sandbox import tiktok as emulator
from services.sandbox.client import SandboxClient
from services.tiktok.adapter import TikTokAdapter
from services.tiktok.oauth import REFRESH, REFRESH_EXPIRES

pytestmark = pytest.mark.unit

Make = Callable[..., tuple[TikTokAdapter, FakeContext]]
VIDEO = MediaRef(key="sha256/" + "b" * 64, sha256="b" * 64, content_type="video/mp4", size=2_000_000)


def expiring(account: Account, days: int) -> Account:
    when = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    return replace(account, credentials={**account.credentials, REFRESH_EXPIRES: Secret(when)})


async def test_a_refresh_token_near_its_end_is_renewed_and_stored(
    make_adapter: Make, account: Account, sandbox: SandboxClient
) -> None:
    adapter, context = make_adapter()
    assert await adapter.check_account(expiring(account, 30)) is None
    assert emulator.state.refreshes == 1
    stored = await context.reload_account(account)
    assert stored.secret(REFRESH) != account.secret(REFRESH)
    renewed = datetime.fromisoformat(stored.secret(REFRESH_EXPIRES)) - datetime.now(UTC)
    assert renewed > timedelta(days=364)  # the emulator's refresh_expires_in: 365 days


async def test_a_refresh_token_far_from_its_end_is_left_alone(
    make_adapter: Make, account: Account, sandbox: SandboxClient
) -> None:
    adapter, context = make_adapter()
    assert await adapter.check_account(expiring(account, 300)) is None
    assert await adapter.check_account(account) is None  # no expiry stored: nothing to judge by
    assert emulator.state.refreshes == 0 and context.saves == 0


async def test_a_refused_renewal_parks_the_account_with_the_reason(
    make_adapter: Make, account: Account, sandbox_url: str
) -> None:
    [open_id] = emulator.state.creators
    httpx.post(f"{sandbox_url}/tiktok/_creators/{open_id}/revoke").raise_for_status()
    adapter, _ = make_adapter()
    reason = await adapter.check_account(expiring(account, 10))
    assert reason is not None and "connect the account again" in reason
    assert account.secret(REFRESH) not in reason


def content(media: list[MediaRef], **options: object) -> Content:
    return Content(
        id="ubnd-dn-0010",
        version=1,
        title="Đà Nẵng: lịch cắt điện tuần này",
        summary="Điện lực Đà Nẵng thông báo lịch cắt điện.",
        body="<p>Chi tiết.</p>",
        media=media,
        unit="Văn phòng",
        approved_by="Lê Thị Đào",
        approved_at=datetime(2025, 12, 4, tzinfo=UTC),
        targets=[Target(channel="tiktok", account="ubnd-da-nang", options=dict(options))],
    )


def test_the_ingest_hears_at_once_that_a_content_without_video_cannot_go() -> None:
    c = content([])
    refusal = TikTokAdapter.refuse_target(c, c.targets[0], "https://bo.gov.vn/tin")
    assert refusal is not None and refusal.startswith("media: the content has no video")
    with_video = content([VIDEO])
    assert TikTokAdapter.refuse_target(with_video, with_video.targets[0], "https://bo.gov.vn/tin") is None


def test_the_ingest_hears_of_a_privacy_level_tiktok_does_not_have() -> None:
    c = content([VIDEO], privacy_level="CÔNG_KHAI")
    refusal = TikTokAdapter.refuse_target(c, c.targets[0], "https://bo.gov.vn/tin")
    assert refusal is not None and refusal.startswith("options.privacy_level: 'CÔNG_KHAI' is not one of")
