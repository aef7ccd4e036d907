"""What a channel offers for citizens' comments on its posts: reply as the office, and moderate.

An adapter that can act on comments also inherits ``CommentActions`` and names what moderating does
on its platform (``moderation``). The publisher runtime (``loa.publisher.comment_actions``) records
each action before the call and settles it after; the adapter only makes the platform's calls and
maps its errors onto Loa's three (``AuthError``, ``TransientError``, ``PermanentError``). A channel
whose adapter does not inherit it refuses both commands with ``refusal``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from loa.channels.base import Account


class CommentActions(ABC):
    moderation: ClassVar[str]
    """What ``moderate_comment`` does: ``hidden`` or ``held_for_review`` (the tracker's word for it)."""

    @abstractmethod
    async def reply_to_comment(self, account: Account, comment_id: str, text: str) -> str:
        """Reply under the comment as the account; returns the platform's id of the reply."""

    @abstractmethod
    async def find_comment_reply(self, account: Account, comment_id: str, text: str) -> str | None:
        """The account's reply with this text already under the comment (an in-doubt reply), or None."""

    @abstractmethod
    async def moderate_comment(self, account: Account, comment_id: str) -> None:
        """Take the comment out of public view; doing it twice changes nothing."""


def refusal(channel: str) -> str:
    """Why a channel without comment actions refuses one (shown to the operator)."""
    return (
        f"channel {channel} cannot reply to or hide comments through Loa "
        "(only facebook, youtube and x have comment actions)"
    )
