"""Replying to and holding for review citizens' comments on the channel's videos (issue #18 item 3).

From developers.google.com/youtube/v3/docs/comments (google-api-python-client's ``comments()``):

- Reply: ``comments.insert(part=snippet, body={snippet: {parentId, textOriginal}})`` answers the new
  comment (50 quota units); ``textOriginal`` at most 10,000 characters (``commentTextTooLong``).
- Hold for review: ``comments.setModerationStatus(id, moderationStatus=heldForReview)`` answers 204
  (50 units); the channel or video owner only (403 ``forbidden``); doing it again changes nothing.
- An in-doubt reply is looked for with ``comments.list(part=snippet, parentId=…)`` (1 unit): a reply
  of the account's channel (its ``channel_id`` option, when set) with the same text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from loa.channels import Account
from loa.channels.comment_actions import CommentActions

T = TypeVar("T")


class YouTubeCommentActions(CommentActions):
    moderation: ClassVar[str] = "held_for_review"
    service: Any

    async def _api(self, method: str, account: Account, fn: Callable[[Any], T]) -> T:
        raise NotImplementedError  # the adapter's: one call, charged to the quota, errors mapped

    async def reply_to_comment(self, account: Account, comment_id: str, text: str) -> str:
        body = {"snippet": {"parentId": comment_id, "textOriginal": text}}
        made = await self._api(
            "comments.insert",
            account,
            lambda http: self.service.comments().insert(part="snippet", body=body).execute(http=http),
        )
        return str(made["id"])

    async def find_comment_reply(self, account: Account, comment_id: str, text: str) -> str | None:
        listed = await self._api(
            "comments.list",
            account,
            lambda http: (
                self.service.comments()
                .list(part="snippet", parentId=comment_id, maxResults=100, textFormat="plainText")
                .execute(http=http)
            ),
        )
        mine = account.options.get("channel_id")
        wanted = unicodedata.normalize("NFC", text)
        for item in listed.get("items") or []:
            snippet = item.get("snippet") or {}
            author = (snippet.get("authorChannelId") or {}).get("value")
            said = unicodedata.normalize("NFC", snippet.get("textOriginal") or "")
            if said == wanted and (mine is None or author == mine):
                return str(item["id"])
        return None

    async def moderate_comment(self, account: Account, comment_id: str) -> None:
        await self._api(
            "comments.setModerationStatus",
            account,
            lambda http: (
                self.service.comments()
                .setModerationStatus(id=comment_id, moderationStatus="heldForReview")
                .execute(http=http)
            ),
        )
