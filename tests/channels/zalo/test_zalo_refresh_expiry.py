"""The daily account check: an idle OA's refresh token is renewed past half its life when Zalo is
reachable; when it is not and the token expires within ``LOA_ZALO_REFRESH_WARN_DAYS``, the runtime
parks the account (``needs_attention``) with the reason. Real job store (SQLite), the emulator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from loa.publisher.main import Publisher
from loa.publisher.parking import ATTENTION
from loa.publisher.store.db import migrate
from services.sandbox import zalo as emulator
from services.sandbox.client import SandboxClient
from services.zalo.adapter import ZaloAdapter
from services.zalo.settings import ZaloSettings
from services.zalo.tokens import REFRESH_TOKEN_LIFETIME, refresh_expiry
from tests.channels.zalo.replicas import register_oa

pytestmark = pytest.mark.integration


@pytest.fixture
async def publisher(sandbox: SandboxClient, sandbox_url: str, tmp_path: Path) -> AsyncIterator[Publisher]:
    settings = ZaloSettings(
        publisher_database_url=f"sqlite+aiosqlite:///{tmp_path / 'zalo.db'}",
        credentials_key=Fernet.generate_key().decode(),
        zalo_openapi_url=f"{sandbox_url}/zalo/openapi",
        zalo_oauth_url=f"{sandbox_url}/zalo/oauth",
        zalo_refresh_warn_days=14,
    )
    pub = Publisher(ZaloAdapter, settings)
    await migrate(pub.engine)
    yield pub
    await pub.adapter.aclose()
    await pub.engine.dispose()


async def _add(pub: Publisher, sandbox_url: str, name: str, expires_in: timedelta) -> str:
    app_id = uuid.uuid4().hex[:12]
    credentials = register_oa(sandbox_url, app_id)
    credentials["refresh_expires_at"] = (datetime.now(UTC) + expires_in).isoformat()
    await pub.accounts.add(name, credentials, {})
    return app_id


async def _parked(pub: Publisher, name: str) -> bool:
    version, parked = (await pub.accounts.versions())[name]
    return parked == version


async def test_expiring_in_3_days_is_flagged_when_zalo_cannot_renew_it_and_60_days_is_not(
    publisher: Publisher, sandbox: SandboxClient, sandbox_url: str
) -> None:
    soon = await _add(publisher, sandbox_url, "so-3-ngay", timedelta(days=3))
    later = await _add(publisher, sandbox_url, "so-60-ngay", timedelta(days=60))
    sandbox.fault("zalo", "server_error", count=50, path="/oauth/")  # Zalo's OAuth is down today
    await publisher.dispatcher.check_accounts()

    assert await _parked(publisher, "so-3-ngay")
    found = await publisher.accounts.get("so-3-ngay")
    assert found is not None
    reason = found[0].options[ATTENTION]
    assert "expires at" in reason and "re-authorise" in reason
    assert not await _parked(publisher, "so-60-ngay")
    assert emulator.state.apps[soon].refreshes == 0 and emulator.state.apps[later].refreshes == 0


async def test_a_reachable_oa_is_renewed_at_half_life_instead_of_flagged(
    publisher: Publisher, sandbox_url: str
) -> None:
    app_id = await _add(publisher, sandbox_url, "so-3-ngay", timedelta(days=3))
    await publisher.dispatcher.check_accounts()

    assert not await _parked(publisher, "so-3-ngay")
    assert emulator.state.apps[app_id].refreshes == 1
    found = await publisher.accounts.get("so-3-ngay")
    assert found is not None
    expires = refresh_expiry(found[0])
    assert expires is not None and expires > datetime.now(UTC) + REFRESH_TOKEN_LIFETIME - timedelta(hours=1)
    await publisher.dispatcher.check_accounts()  # renewed: nothing to do the next day
    assert emulator.state.apps[app_id].refreshes == 1


async def test_a_refused_refresh_token_is_flagged_at_once(publisher: Publisher, sandbox_url: str) -> None:
    await _add(publisher, sandbox_url, "so-cu", timedelta(days=20))
    await publisher.accounts.update("so-cu", credentials={"refresh_token": "da-dung-roi"})
    await publisher.dispatcher.check_accounts()  # unknown age (a pasted token): renewal is tried

    assert await _parked(publisher, "so-cu")
    found = await publisher.accounts.get("so-cu")
    assert found is not None
    assert "re-authorise" in found[0].options[ATTENTION]
    assert "da-dung-roi" not in found[0].options[ATTENTION]
