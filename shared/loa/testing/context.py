"""``FakeContext``: the runtime's ``Context`` for adapter tests, in memory (a real MediaStore is optional)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
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
        self.credentials: dict[tuple[str, str], dict[str, Secret]] = {}
        """Rotated credentials by (channel, account name)."""

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

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        merged = {**account.credentials, **{k: Secret(v) for k, v in credentials.items()}}
        self.credentials[(account.channel, account.name)] = merged
        return replace(account, credentials=merged)
