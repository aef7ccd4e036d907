"""Tokens and roles; the body pipe streams in order and stops at the cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from loa.access.bearer import BearerTokens
from loa.access.policy import Action, Policy
from loa.access.principal import ALL_UNITS, Grant, Role
from loa.access.tokens import TokenStore
from loa.access.units import UnitTree
from services.ingest.auth import bearer_tokens
from services.ingest.pipe import BodyTooLargeError, Pipe, feed
from services.ingest.settings import IngestSettings

pytestmark = pytest.mark.unit


def book() -> BearerTokens:
    settings = IngestSettings(
        api_token="admin-secret-token-0123456789abcdef",  # type: ignore[arg-type]
        ingest_tokens={"cms": {"token": "cms-secret-token-0123456789abcdef", "role": "publisher"}},  # type: ignore[arg-type]
    )
    assert "cms-secret-token-0123456789abcdef" not in repr(settings)
    assert "admin-secret-token-0123456789abcdef" not in repr(settings)
    return bearer_tokens(settings, TokenStore.at("sqlite+aiosqlite://"))


def test_configured_tokens_map_to_service_accounts_with_grants() -> None:
    """The deprecated ``publisher`` is an editor of every unit: it submits, it does not retract."""
    tokens, policy = book(), Policy(UnitTree())
    cms = tokens.configured("cms-secret-token-0123456789abcdef")
    assert cms is not None
    assert (cms.name, cms.grants) == ("cms", frozenset({Grant(Role.EDITOR, ALL_UNITS)}))
    assert policy.may(cms, Action.SUBMIT, "Vụ Pháp chế")
    assert not policy.may(cms, Action.RETRACT, "Vụ Pháp chế")
    admin = tokens.configured("admin-secret-token-0123456789abcdef")
    assert admin is not None
    assert policy.may(admin, Action.RETRACT, "Vụ Pháp chế")
    assert tokens.configured("cms-secret-toke") is None
    assert tokens.configured("") is None


def test_known_channels_and_types_from_settings() -> None:
    settings = IngestSettings(channels="website, x")
    assert settings.channel_names == {"website", "x"}
    assert "video/mp4" in IngestSettings().media_types


async def _body(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_pipe_streams_everything_in_order() -> None:
    pipe = Pipe()
    chunks = [bytes([i]) * 100_000 for i in range(40)]  # 4 MB through a small queue
    reader = asyncio.create_task(asyncio.to_thread(lambda: b"".join(iter(lambda: pipe.read(300_000), b""))))
    heads: list[bytes] = []
    total = await feed(pipe, _body(chunks), 10**9, heads.append)
    assert total == 4_000_000
    assert await reader == b"".join(chunks)
    assert heads == [b"\0" * 64]


async def test_pipe_stops_at_the_cap_and_the_reader_sees_it() -> None:
    pipe = Pipe()
    reader = asyncio.create_task(asyncio.to_thread(lambda: pipe.read(10**9)))
    with pytest.raises(BodyTooLargeError):
        await feed(pipe, _body([b"a" * 1000] * 10), 5000, lambda head: None)
    with pytest.raises(BodyTooLargeError):
        await reader
