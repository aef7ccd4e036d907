"""A person's session keeps their ID token sealed with the cookie: the table alone opens nothing,
the cookie does, and an ended session gives no token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loa.access.principal import Grant, Kind, Principal, Role
from services.tracker.db import make_engine, migrate
from services.tracker.sessions import Sessions
from services.tracker.tables import dashboard_sessions

pytestmark = pytest.mark.unit
PERSON = Principal(
    "phatngon.soyte@loa.example",
    Kind.PERSON,
    frozenset({Grant(Role.SPOKESPERSON, "so-y-te")}),
    display_name="Trần Đức Thắng",
)
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmODFkIn0.c2lnbmF0dXJl"


async def test_the_id_token_is_sealed_in_the_table_and_opened_only_with_the_cookie(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    await migrate(engine)
    sessions = Sessions(engine)
    cookie = await sessions.open(PERSON, ID_TOKEN)
    async with engine.connect() as conn:
        row = (await conn.execute(select(dashboard_sessions))).one()
    assert not any(part in str(tuple(row)) for part in ID_TOKEN.split("."))
    assert str(row.id_token_sealed).startswith("gAAAAA")  # Fernet's version byte 0x80, in base64url
    assert await sessions.id_token(cookie) == ID_TOKEN
    assert await sessions.id_token(cookie[:-2] + "xy") is None

    other = await sessions.open(PERSON, None)  # a service account's or an old session: none
    assert await sessions.id_token(other) is None

    await sessions.revoke(cookie)
    assert await sessions.id_token(cookie) is None
    await engine.dispose()
