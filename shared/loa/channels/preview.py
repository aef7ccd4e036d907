"""What each target channel would receive, rendered by its own adapter: ``loa publish --dry-run``
and the dashboard's approvals page (through the ingest's ``GET /api/v1/awaiting``).

Media are not uploaded in a dry run: an adapter that needs their bytes at render time (to re-encode
or copy them) is rendered again without them, and says so; every text is rendered and counted the
way its channel counts it, against the channel's declared limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loa.channels import Account, ChannelError, Post
from loa.channels.credentials import UnsharedCredentials
from loa.channels.limits import check_limits
from loa.events import Content, Target
from loa.links import canonical_url
from loa.publisher.discovery import load_channel
from loa.settings import LoaSettings


class _NoMediaError(ChannelError):
    """An adapter asked for media bytes, which a dry run does not have."""


class _PreviewContext(UnsharedCredentials):
    """A context that links like the runtime and persists nothing."""

    def __init__(self, settings: LoaSettings) -> None:
        self.settings = settings

    @property
    def media(self) -> Any:
        raise _NoMediaError("media are not available in a dry run")

    def canonical_url(self, content: Content) -> str:
        return canonical_url(content, str(self.settings.website_base_url))

    async def save_progress(self, post: Post) -> None:
        return None

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        return account

    async def retract_requested(self, post: Post) -> bool:
        return False


@dataclass
class Preview:
    target: Target
    title: str | None = None
    texts: list[tuple[str, int, int | None]] = field(default_factory=list)
    """Each text with its count (as the channel counts) and the channel's limit."""
    problem: str | None = None
    note: str | None = None


async def _preview(content: Content, target: Target, settings: LoaSettings) -> Preview:
    try:
        adapter_cls, settings_cls = load_channel(target.channel)
    except KeyError as e:
        return Preview(target, problem=str(e).strip("'\""))
    adapter = adapter_cls(_PreviewContext(settings), settings_cls())
    account = Account(channel=target.channel, name=target.account)
    note = None
    try:
        try:
            post = await adapter.render(content, target, account)
        except _NoMediaError:
            post = await adapter.render(content.model_copy(update={"media": []}), target, account)
            note = "rendered without media (this channel reads them at render time)"
        limits = adapter.limits
        texts = [(t, limits.count(t), limits.text_max) for t in post.texts]
        preview = Preview(target, post.title, texts, note=note)
        check_limits(post, limits)
    except ChannelError as e:
        return Preview(target, problem=f"{type(e).__name__}: {e}", note=note)
    finally:
        await adapter.aclose()
    return preview


async def render_previews(content: Content, settings: LoaSettings) -> list[Preview]:
    """Each target's preview, one after the other (rendering needs no network)."""
    return [await _preview(content, t, settings) for t in content.targets]


def previews(content: Content, settings: LoaSettings) -> list[Preview]:
    return asyncio.run(render_previews(content, settings))
