"""An ingest and a tracker sharing one token table and one unit tree, with a service account per
role: the permission matrix's and the spoofing cases' stage."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loa.access import Principal
from loa.access.principal import ALL_UNITS, Grant, Kind, Role
from loa.access.tokens import TokenStore
from loa.settings import LoaSettings
from services.ingest.app import create_app as ingest_app
from services.ingest.settings import IngestSettings
from services.tracker.app import create_app as tracker_app
from services.tracker.db import make_engine
from services.tracker.ingest import apply_content_events
from tests.conftest import Stack
from tests.integration.ingest.conftest import ingest_settings
from tests.integration.tracker.support import approved, tracker_settings
from tests.support.live import serve

MINISTRY = "Bộ Thông tin và Truyền thông"
OWN = "Vụ Truyền thông và Báo chí"
OTHER = "Vụ Pháp chế"
UNITS = {MINISTRY: None, OWN: MINISTRY, OTHER: MINISTRY}
ACCOUNT_OF = {OWN: "trang-vu-truyen-thong", OTHER: "trang-vu-phap-che"}
"""A website account of each department (``LOA_ACCOUNT_UNITS``)."""
GRANTS = {
    Role.VIEWER: OWN,
    Role.EDITOR: OWN,
    Role.SPOKESPERSON: OWN,
    Role.OPERATOR: ALL_UNITS,
    Role.ADMIN: ALL_UNITS,
}
"""Each role's service account, on the department the tests call "own"."""


@dataclass(frozen=True)
class Stage:
    ingest: str
    tracker: str
    tokens: dict[Role, str]
    principals: dict[Role, Principal]
    ingest_settings: IngestSettings
    tracker_db: str

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def _issue(url: str) -> tuple[dict[Role, str], dict[Role, Principal]]:
    store = TokenStore.at(url)
    await store.migrate()
    tokens, principals = {}, {}
    for role, unit in GRANTS.items():
        grants = frozenset({Grant(role, unit)})
        row, tokens[role] = await store.issue(f"sa-{role.value}", grants, "test")
        principals[role] = Principal(row.name, Kind.SERVICE, grants)
    await store.close()
    return tokens, principals


async def seed_tracker(db_url: str, unit: str, cid: str | None = None) -> str:
    """A content of ``unit`` with one website delivery, as the tracker records it; returns its id."""
    cid = cid or f"tin-{uuid.uuid4().hex[:8]}"
    event = approved(cid, [("website", ACCOUNT_OF[unit])], unit=unit)
    engine = make_engine(db_url)
    await apply_content_events(engine, [event])
    await engine.dispose()
    return cid


async def issue_token(s: Stage, name: str, role: Role, unit: str) -> str:
    """Another service account, e.g. an editor of the other department."""
    store = TokenStore.at(str(s.ingest_settings.tokens_database_url))
    try:
        _, token = await store.issue(name, frozenset({Grant(role, unit)}), "test")
        return token
    finally:
        await store.close()


@contextlib.contextmanager
def stage(stack: Stack, base: LoaSettings, tmp: Path, **ingest_extra: Any) -> Iterator[Stage]:
    access_db = f"sqlite+aiosqlite:///{tmp / 'access.db'}"
    tracker_db = f"sqlite+aiosqlite:///{tmp / 'tracker.db'}"
    tokens, principals = asyncio.run(_issue(access_db))
    shared: dict[str, Any] = {
        "units": UNITS,
        "account_units": {f"website/{a}": u for u, a in ACCOUNT_OF.items()},
        "access_database_url": access_db,
    }
    ingest, _ = ingest_settings(stack, tmp)
    ingest = ingest.model_copy(update=shared | ingest_extra)
    tracker = tracker_settings(base, tracker_db, tracker_consume=False, tracker_tokens={}, **shared)
    with serve(ingest_app(ingest)) as ingest_url, serve(tracker_app(tracker)) as tracker_url:
        yield Stage(ingest_url, tracker_url, tokens, principals, ingest, tracker_db)
