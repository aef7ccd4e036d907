"""The accounts table is the one owner of which unit an account belongs to, for the ingest too: an
admin moves an account to another unit through the tracker's API, and the ingest then refuses an
editor of the old unit a content that targets it (403 naming the target).

Real services: the tracker (its accounts API sends ``account.set`` on Kafka) and the ingest served
by uvicorn; the ingest reads ``GET /api/v1/account-units`` with a read-only token of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from loa.access.principal import ALL_UNITS, Grant, Role
from loa.access.tokens import TokenStore
from loa.settings import LoaSettings
from services.ingest.app import create_app as ingest_app
from services.tracker.app import create_app as tracker_app
from tests.conftest import Stack
from tests.integration.ingest.conftest import ingest_settings
from tests.integration.tracker.support import tracker_settings
from tests.security.access_support import MINISTRY, OTHER, OWN, UNITS
from tests.support.live import serve
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration
ACCOUNT = f"trang-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Office:
    ingest: str
    tracker: str
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


async def _issue(url: str) -> dict[str, str]:
    store = TokenStore.at(url)
    await store.migrate()
    grants = {
        "admin": Grant(Role.ADMIN, ALL_UNITS),
        "editor": Grant(Role.EDITOR, OWN),
        "ingest": Grant(Role.VIEWER, ALL_UNITS),  # the ingest's read-only token for the tracker
    }
    tokens = {}
    for name, grant in grants.items():
        _, tokens[name] = await store.issue(f"sa-{name}", frozenset({grant}), "test")
    await store.close()
    return tokens


@pytest.fixture
def office(stack: Stack, tmp_path: Path) -> Iterator[Office]:
    base = LoaSettings(kafka_bootstrap=stack.kafka_bootstrap, topic_prefix=f"t-{uuid.uuid4().hex[:8]}.")
    access_db = f"sqlite+aiosqlite:///{tmp_path / 'access.db'}"
    tokens = asyncio.run(_issue(access_db))
    # LOA_ACCOUNT_UNITS still says the old unit: the table must win over it
    shared: dict[str, Any] = {
        "units": UNITS,
        "account_units": {f"website/{ACCOUNT}": OWN},
        "access_database_url": access_db,
    }
    tracker = tracker_settings(
        base,
        f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}",
        tracker_consume=False,
        tracker_tokens={},
        **shared,
    )
    with serve(tracker_app(tracker)) as tracker_url:
        ingest, _ = ingest_settings(stack, tmp_path)
        ingest = ingest.model_copy(
            update=shared
            | {
                "ingest_tracker_url": tracker_url,
                "ingest_tracker_token": SecretStr(tokens["ingest"]),
                "ingest_account_units_ttl_s": 0.0,
            }
        )
        with serve(ingest_app(ingest)) as ingest_url:
            yield Office(ingest_url, tracker_url, tokens)


def _submit(o: Office, c: httpx.Client) -> httpx.Response:
    payload = submitted_payload(f"tk-{uuid.uuid4().hex[:10]}") | {"unit": OWN}
    payload |= {"title": "Thông cáo báo chí về Đề án chuyển đổi số ngành Tư pháp"}
    payload["targets"] = [{"channel": "website", "account": ACCOUNT}]
    return c.post(f"{o.ingest}/api/v1/contents", json={"payload": payload}, headers=o.auth("editor"))


def test_an_account_moved_to_another_unit_is_refused_to_an_editor_of_the_old_one(office: Office) -> None:
    o = office
    with httpx.Client(timeout=30) as c:
        added = c.post(
            f"{o.tracker}/api/v1/accounts",
            json={"channel": "website", "name": ACCOUNT, "unit": OWN},
            headers=o.auth("admin"),
        )
        assert added.status_code == 201, added.text
        before = _submit(o, c)
        assert before.status_code == 202, before.text

        moved = c.patch(
            f"{o.tracker}/api/v1/accounts/website/{ACCOUNT}", json={"unit": OTHER}, headers=o.auth("admin")
        )
        assert moved.status_code == 200, moved.text
        after = _submit(o, c)
        assert after.status_code == 403, after.text
        error = after.json()["error"]
        assert error["code"] == "account_of_another_unit"
        assert error["fields"][0]["field"] == "payload.targets.0.account"
        assert f"belongs to unit {OTHER!r}" in error["fields"][0]["reason"]


def test_the_units_list_shows_a_reader_only_its_units_accounts(office: Office) -> None:
    o = office
    with httpx.Client(timeout=30) as c:
        for name, unit in ((ACCOUNT, OTHER), (f"{ACCOUNT}-bo", MINISTRY), (f"{ACCOUNT}-vu", OWN)):
            body = {"channel": "website", "name": name, "unit": unit}
            assert (
                c.post(f"{o.tracker}/api/v1/accounts", json=body, headers=o.auth("admin")).status_code == 201
            )
        seen_by_editor = c.get(f"{o.tracker}/api/v1/account-units", headers=o.auth("editor")).json()
        seen_by_ingest = c.get(f"{o.tracker}/api/v1/account-units", headers=o.auth("ingest")).json()
    assert [a["name"] for a in seen_by_editor] == [f"{ACCOUNT}-vu"]
    assert sorted(a["unit"] for a in seen_by_ingest) == sorted([OTHER, MINISTRY, OWN])
    assert all(set(a) == {"channel", "name", "unit"} for a in seen_by_ingest)  # nothing else of an account
