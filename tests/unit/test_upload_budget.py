"""The memory budget of chunked uploads: bytes held never exceed it, and every upload gets its turn."""

from __future__ import annotations

import asyncio

import pytest

from loa.channels.uploads import UploadBudget


async def test_uploads_wait_while_the_budget_is_spent_and_all_finish() -> None:
    budget = UploadBudget(10 * 2**20)
    held: list[int] = []
    peak = 0

    async def upload(nbytes: int) -> None:
        nonlocal peak
        async with budget.hold(nbytes):
            held.append(nbytes)
            peak = max(peak, sum(held))
            await asyncio.sleep(0.01)
            held.remove(nbytes)

    sizes = [8 * 2**20, 4 * 2**20, 512 * 1024, 3 * 2**20, 8 * 2**20, 256 * 1024] * 5
    await asyncio.wait_for(asyncio.gather(*(upload(n) for n in sizes)), timeout=5)
    assert peak <= budget.capacity
    assert peak > 8 * 2**20  # small uploads ran beside a large one
    assert budget.free == budget.capacity


async def test_an_upload_larger_than_the_budget_runs_alone() -> None:
    budget = UploadBudget(1024)
    async with budget.hold(10_000):
        assert budget.free == 0
    assert budget.free == 1024


async def test_a_failed_upload_gives_its_bytes_back() -> None:
    budget = UploadBudget(1024)
    with pytest.raises(RuntimeError):
        async with budget.hold(600):
            raise RuntimeError("platform refused")
    assert budget.free == 1024


def test_an_empty_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one byte"):
        UploadBudget(0)
