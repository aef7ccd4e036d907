"""An unknown account or a text a channel can never take is a 422 at the ingest naming the target,
not a 202 that fails later; accounts are read from the publishers' job stores (names only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from loa.publisher.accounts import AccountStore
from loa.publisher.store.db import make_engine, migrate
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from services.youtube.render import DESCRIPTION_MAX_BYTES
from tests.conftest import Stack
from tests.integration.ingest.conftest import LiveIngest, ingest_settings
from tests.support.live import serve
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

ACCOUNTS = {"youtube": "kenh-chinh", "website": "main"}


async def _seed_accounts(url: str) -> None:
    engine = make_engine(url)
    await migrate(engine)
    for channel, name in ACCOUNTS.items():
        store = AccountStore(engine, channel, Fernet(Fernet.generate_key()))
        await store.add(name, {"refresh_token": "bí-mật-không-in-ra"}, {})
    await engine.dispose()


@pytest.fixture
async def live(stack: Stack, tmp_path: Path) -> AsyncIterator[LiveIngest]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'publishers.db'}"
    await _seed_accounts(url)
    settings, tokens = ingest_settings(stack, tmp_path)
    settings = IngestSettings.model_validate({**settings.model_dump(), "publisher_database_url": url})
    with serve(create_app(settings)) as base:
        yield LiveIngest(base, settings, tokens["admin"], tokens["publisher"], tokens["uploader"])


def submit(live: LiveIngest, targets: list[dict[str, str]], content_id: str) -> httpx.Response:
    payload = submitted_payload(content_id) | {"targets": targets}
    with httpx.Client(base_url=live.url, timeout=30, headers=live.auth(live.publisher)) as client:
        return client.post("/api/v1/contents", json={"payload": payload})


def test_an_unknown_account_is_422_naming_the_target(live: LiveIngest) -> None:
    targets = [{"channel": "website", "account": "main"}, {"channel": "youtube", "account": "kenh-phu"}]
    response = submit(live, targets, "tai-khoan-la")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "target_refused"
    assert error["fields"] == [
        {
            "field": "payload.targets.1.account",
            "reason": "youtube/kenh-phu: no account 'kenh-phu' on youtube (loa accounts add youtube ...)",
        }
    ]
    assert "bí-mật" not in response.text


def test_a_youtube_text_that_cannot_fit_is_422_naming_the_field(live: LiveIngest) -> None:
    text = "Đường dây nóng Đà Nẵng. " * (DESCRIPTION_MAX_BYTES // 20)  # > 5000 UTF-8 bytes
    targets = [{"channel": "youtube", "account": "kenh-chinh", "text": text}]
    response = submit(live, targets, "mo-ta-dai")
    assert response.status_code == 422, response.text
    (field,) = response.json()["error"]["fields"]
    assert field["field"] == "payload.targets.0.text"
    assert field["reason"].startswith("youtube/kenh-chinh: ")
    assert f"{DESCRIPTION_MAX_BYTES}-byte description" in field["reason"]


def test_known_accounts_and_fitting_text_are_accepted(live: LiveIngest) -> None:
    targets = [
        {"channel": "website", "account": "main"},
        {"channel": "youtube", "account": "kenh-chinh", "text": "Họp báo thường kỳ tháng Mười Hai"},
    ]
    response = submit(live, targets, "hop-le")
    assert response.status_code == 202, response.text
