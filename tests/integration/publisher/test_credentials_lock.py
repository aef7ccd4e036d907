"""The credentials lock admits one holder at a time per account, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from loa.publisher.locks import credentials_lock
from loa.publisher.store.db import make_engine

pytestmark = pytest.mark.integration


async def test_one_holder_at_a_time_per_account_and_none_across_accounts(db_url: str) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]  # two "replicas"
    inside: list[str] = []
    overlaps: list[tuple[str, str]] = []

    async def hold(engine_index: int, account: str, name: str) -> None:
        async with credentials_lock(engines[engine_index], "zalo", account):
            overlaps.extend((name, other) for other in inside if other.startswith(account))
            inside.append(f"{account}:{name}")
            await asyncio.sleep(0.05)
            inside.remove(f"{account}:{name}")

    await asyncio.gather(*(hold(i % 2, "bo-tttt", f"w{i}") for i in range(6)))
    assert overlaps == []

    # Different accounts: both holders are inside at once (each waits for the other inside).
    entered: set[str] = set()
    both_inside = asyncio.Event()

    async def hold_until_both(engine_index: int, account: str) -> None:
        async with credentials_lock(engines[engine_index], "zalo", account):
            entered.add(account)
            if len(entered) == 2:
                both_inside.set()
            await asyncio.wait_for(both_inside.wait(), timeout=10)

    await asyncio.gather(hold_until_both(0, "so-tttt-ha-noi"), hold_until_both(1, "bo-cong-an"))
    for engine in engines:
        await engine.dispose()
