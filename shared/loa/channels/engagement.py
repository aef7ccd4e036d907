"""What a channel offers the listener: a reader of one published post's figures and comments.

Each channel that can say how its posts landed has an ``engagement.py`` in its folder with one
reader class, registered as a ``loa.engagement`` entry point (as adapters are ``loa.channels``
ones), so the listener names no channel. A reader reads the figures (``read``) and the comments
(``read_comments``) separately, each on the listener's own schedule for it, through the channel's
own SDK client (the limits, error mapping and base URL the publisher uses) and raises
Loa's three errors: ``TransientError`` (with the platform's ``retry_at`` when it names one),
``AuthError``, ``PermanentError`` (the post is gone: stop following it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol

from loa.channels.base import Account
from loa.events.engagement import Metric, PostComment

ENTRY_POINT_GROUP = "loa.engagement"


@dataclass(frozen=True)
class Observation:
    """The figures of one post as the platform gave them; a figure it does not give is absent."""

    metrics: Mapping[Metric, int]
    slow_down_until: datetime | None = None
    """The platform's usage headers say this account (or app) should make no call before then."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    comments: Sequence[PostComment] = ()
    """The newest comments or replies the platform lists for the post (the inbox): what
    ``read_comments`` finds (``read`` leaves it empty)."""


class EngagementReader(Protocol):
    """One per channel and process; ``settings`` is the channel's own settings class."""

    channel: ClassVar[str]
    lists_comments: ClassVar[bool]
    """Whether the platform lists comments the reader reads (``read_comments``); when not, the
    listener schedules no comment reads for the channel's posts."""

    async def read(self, account: Account, external_id: str) -> Observation:
        """The figures of the post ``external_id`` (its ``metrics``)."""
        ...

    async def read_comments(self, account: Account, external_id: str) -> Observation:
        """The newest comments of the post ``external_id`` (its ``comments``; no ``metrics``)."""
        ...

    def close(self) -> None: ...


def load_readers() -> dict[str, type[EngagementReader]]:
    """The reader class of every installed channel that has one, by channel name."""
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}
