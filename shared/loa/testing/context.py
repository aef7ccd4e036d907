"""``FakeContext``: the runtime's context for adapter tests, in memory (a real MediaStore is optional).

Credentials behave as in ``loa.publisher.context.RuntimeContext``: saved and marked values merged
into the stored ones, ``reload_account`` answering them (as another replica would have left them),
and ``credentials_lock`` one rotation at a time per account (within the process).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Any

from loa.channels.base import Account, Post, Secret
from loa.events import Content
from loa.links import canonical_url
from loa.media import MediaStore


class FakeContext:
    """Progress and credentials kept in dicts; ``canonical_url`` as the website will build it."""

    def __init__(
        self, media: MediaStore | None = None, website_base_url: str = "http://127.0.0.1:8082"
    ) -> None:
        self._media = media
        self.website_base_url = website_base_url
        self.progress: dict[tuple[str, int, str, str], dict[str, Any]] = {}
        """Saved ``post.progress`` by (content id, version, channel, account)."""
        self.saved: list[dict[str, Any]] = []
        """Every ``post.progress`` saved, in order."""
        self.credentials: dict[tuple[str, str], dict[str, Secret]] = {}
        """Rotated credentials by (channel, account name)."""
        self.saves = 0
        """How many times credentials were saved."""
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.retracted: set[str] = set()
        """Content ids retracted meanwhile (``retract_requested`` answers from it)."""

    @property
    def media(self) -> MediaStore:
        if self._media is None:
            raise RuntimeError("this FakeContext has no media store: pass FakeContext(media=MediaStore(...))")
        return self._media

    def canonical_url(self, content: Content) -> str:
        return canonical_url(content, self.website_base_url)

    async def save_progress(self, post: Post) -> None:
        key = (post.content_id, post.version, post.channel, post.account)
        self.progress[key] = copy.deepcopy(post.progress)
        self.saved.append(copy.deepcopy(post.progress))

    async def retract_requested(self, post: Post) -> bool:
        return post.content_id in self.retracted

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        """Merged into the current credentials, as the account store does."""
        self.saves += 1
        return await self.mark_credentials(account, credentials)

    async def mark_credentials(self, account: Account, values: Mapping[str, str]) -> Account:
        current = self.credentials.get((account.channel, account.name), account.credentials)
        merged = {**current, **{k: Secret(v) for k, v in values.items()}}
        self.credentials[(account.channel, account.name)] = merged
        return replace(account, credentials=merged)

    @contextlib.asynccontextmanager
    async def credentials_lock(self, account: Account) -> AsyncIterator[None]:
        """One rotation at a time per account (in this process; the runtime's lock spans replicas)."""
        async with self._locks[(account.channel, account.name)]:
            yield

    async def reload_account(self, account: Account) -> Account:
        """The account with the credentials saved since (as another replica would have left them)."""
        saved = self.credentials.get((account.channel, account.name))
        return account if saved is None else replace(account, credentials=saved)
