"""Fixtures of the TikTok tests: the in-process sandbox with one creator, an adapter on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from loa.channels import Account
from loa.testing import FakeContext
from services.sandbox.client import SandboxClient
from services.tiktok.adapter import TikTokAdapter
from services.tiktok.settings import TikTokSettings
from tests.channels.tiktok.support import MemoryMedia, register_creator


@pytest.fixture
def account(sandbox: SandboxClient, sandbox_url: str) -> Account:
    return register_creator(sandbox_url)


@pytest.fixture
def memory_media() -> MemoryMedia:
    return MemoryMedia()


@pytest.fixture
async def make_adapter(
    sandbox_url: str, memory_media: MemoryMedia
) -> AsyncIterator[Callable[..., tuple[TikTokAdapter, FakeContext]]]:
    made: list[TikTokAdapter] = []

    def make(**overrides: Any) -> tuple[TikTokAdapter, FakeContext]:
        context = FakeContext(media=memory_media.as_store())
        settings = TikTokSettings(
            tiktok_api_url=f"{sandbox_url}/tiktok",
            tiktok_status_interval_s=0.0,
            tiktok_timeout_s=2.0,
            **overrides,
        )
        adapter = TikTokAdapter(context, settings)
        made.append(adapter)
        return adapter, context

    yield make
    for adapter in made:
        await adapter.aclose()
