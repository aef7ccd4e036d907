"""Channel accounts through the tracker's API, applied by a real publisher from ``loa.commands.v1``:
admin only, each change audited, the account parked and back, and no secret in any answer, log,
audit row or Kafka record."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from publisher_fake import FakePlatform
from publisher_helpers import Watcher, approved, content, did, send_content

from loa.events import DeliveryState as S
from loa.publisher.main import Publisher
from loa.publisher.settings import PublisherSettings
from tests.integration.tracker.support import (
    auth,
    command_records,
    eventually,
    running_tracker,
    tracker_settings,
)

pytestmark = pytest.mark.integration

UNIT = "Sở Thông tin và Truyền thông Đà Nẵng"
NAME = "trang-so-da-nang"
SECRET = "EAAGm0PX4ZCpsBAĐặcBiệtBíMật9xQzTrangĐàNẵng"
APP_SECRET = "zalo-app-secret-Đ-7f3c2a91be"


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert APP_SECRET not in text


async def test_accounts_through_the_api_reach_the_publisher_audited_and_never_shown(
    start_publisher: Any,
    pub_settings: PublisherSettings,
    platform: FakePlatform,
    watcher: Watcher,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pub: Publisher = await start_publisher()
    settings = tracker_settings(
        pub_settings,
        sqlite_url.replace("store.db", "tracker.db"),
        channels="fakechan,website",
        credentials_key=pub_settings.credentials_key,
    )
    answers: list[str] = []

    async with running_tracker(settings) as (_, client):

        async def call(method: str, url: str, role: str = "admin", **kw: Any) -> httpx.Response:
            r = await client.request(method, url, headers=auth(role), **kw)
            answers.append(r.text)
            return r

        new = {
            "channel": "fakechan",
            "name": NAME,
            "unit": UNIT,
            "credentials": {"token": "expired", "app_secret": APP_SECRET},
            "options": {"platform": platform.path},
            "expires_at": "2027-02-01T00:00:00+07:00",
        }
        # admin only
        for role in ("viewer", "operator"):
            assert (await call("GET", "/api/v1/accounts", role)).status_code == 403
            assert (await call("POST", "/api/v1/accounts", role, json=new)).status_code == 403
        # a clear refusal naming the field, without echoing a credential
        bad = {**new, "credentials": {"token": 12345, "app_secret": APP_SECRET}}
        r = await call("POST", "/api/v1/accounts", json=bad)
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "body.credentials.token"
        r = await call("POST", "/api/v1/accounts", json={**new, "channel": "myspace"})
        assert r.status_code == 422
        assert "channel" in r.json()["error"]["message"]

        r = await call("POST", "/api/v1/accounts", json=new)
        assert r.status_code == 201, r.text
        shown = r.json()
        assert shown["credential_names"] == ["app_secret", "token"]
        assert (shown["unit"], shown["parked"], shown["expired"]) == (UNIT, False, False)
        assert shown["expires_at"].startswith("2027-01-31T17:00:00")
        assert (await call("POST", "/api/v1/accounts", json=new)).status_code == 409

        async def in_store(token: str) -> bool:
            found = await pub.accounts.get(NAME)
            return found is not None and found.account.secret("token") == token

        await eventually(lambda: in_store("expired"), what="the publisher to add the account")
        found = await pub.accounts.get(NAME)
        assert found is not None
        assert found.account.secret("app_secret") == APP_SECRET
        assert found.account.options == {"platform": platform.path}

        # the platform refuses its token: the account is parked, and the list says so
        title = "Lịch tiếp công dân tháng 12 ở Đà Nẵng"
        c = content("lich-tiep-cong-dan-da-nang", accounts=[NAME], title=title)
        await send_content(pub_settings, approved(c))
        await watcher.until_state(did(c.id, NAME), S.NEEDS_ATTENTION)

        async def parked() -> bool:
            listed = (await call("GET", "/api/v1/accounts")).json()
            return bool([a["parked"] for a in listed if a["name"] == NAME] == [True])

        await eventually(parked, what="the account shown parked")

        # new credentials: the publisher picks them up and the delivery goes
        r = await call("PATCH", f"/api/v1/accounts/fakechan/{NAME}", json={"credentials": {"token": SECRET}})
        assert r.status_code == 200, r.text
        assert (r.json()["parked"], r.json()["version"], r.json()["unit"]) == (False, 2, UNIT)
        await eventually(lambda: in_store(SECRET), what="the publisher to take the new token")
        found = await pub.accounts.get(NAME)
        assert found is not None
        assert found.account.secret("app_secret") == APP_SECRET, "merged, not replaced"
        await pub.intake.command(_retry(c.id))
        await watcher.until_state(did(c.id, NAME), S.PUBLISHED)

        assert (await call("DELETE", "/api/v1/accounts/fakechan/khong-co")).status_code == 404
        r = await call("DELETE", f"/api/v1/accounts/fakechan/{NAME}")
        assert r.status_code == 200
        assert (await call("GET", "/api/v1/accounts")).json() == []

        async def gone() -> bool:
            return await pub.accounts.get(NAME) is None

        await eventually(gone, what="the publisher to remove the account")

        r = await call("GET", "/api/v1/audit", params={"action": "account_change"})
        rows = r.json()["items"]
        assert [(row["actor"], row["account"], row["unit"]) for row in rows] == [("admin", NAME, UNIT)] * 3
        assert [row["detail"] for row in rows] == [
            f"remove fakechan/{NAME}",
            f"update fakechan/{NAME}: credentials token",
            f"add fakechan/{NAME}: credentials app_secret, token; options platform; "
            f"unit {UNIT}; expires 2027-02-01T00:00:00+07:00",
        ]

    raw = [value for _, value in await command_records(pub_settings)]
    assert len(raw) >= 3
    _no_secret(*answers, caplog.text, *(b.decode() for b in raw))


def _retry(cid: str) -> Any:
    from loa.events import DeliveryRef, RetryDelivery

    ref = DeliveryRef(content_id=cid, channel="fakechan", account=NAME, requested_by="Trần Văn Đức")
    return RetryDelivery(payload=ref)
