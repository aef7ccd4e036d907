"""Replying to and hiding citizens' replies under the account's posts (issue #18 item 3).

- Reply: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id`` (tweepy's ``create_tweet(text,
  in_reply_to_tweet_id=…)`` sends the same body; docs.x.com/x-api/posts/create-post), the text
  counted by X's weights first (280; ``counting.py``).
- Hide: ``PUT /2/tweets/:id/hidden`` (tweepy ``Client.hide_reply``; docs.x.com/x-api/posts/hide-replies).
  Hiding a hidden reply again changes nothing.
- An in-doubt reply is looked for among the account's newest posts: one replying to the comment
  (``referenced_tweets`` ``replied_to``) with the same text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import ClassVar, TypeVar

from loa.channels import Account, PermanentError
from loa.channels.comment_actions import CommentActions
from services.x.client import XClient
from services.x.counting import MAX_WEIGHTED_LENGTH, weighted_length

T = TypeVar("T")


class XCommentActions(CommentActions):
    moderation: ClassVar[str] = "hidden"

    async def _with(self, account: Account, use: Callable[[XClient], T]) -> T:
        raise NotImplementedError  # the adapter's: the account's client, its OAuth 2.0 token refreshed

    async def reply_to_comment(self, account: Account, comment_id: str, text: str) -> str:
        length = weighted_length(text)
        if length > MAX_WEIGHTED_LENGTH:
            raise PermanentError(
                f"text: {length} weighted characters, X takes a reply of at most {MAX_WEIGHTED_LENGTH}",
                code="too_long",
            )
        return await self._with(account, lambda client: client.create(text, comment_id, []))

    async def find_comment_reply(self, account: Account, comment_id: str, text: str) -> str | None:
        posts = await self._with(account, lambda client: client.my_replies())
        wanted = unicodedata.normalize("NFC", text)
        for post in posts:
            replied = {
                r.get("id") for r in post.get("referenced_tweets") or [] if r.get("type") == "replied_to"
            }
            if comment_id in replied and unicodedata.normalize("NFC", post.get("text", "")) == wanted:
                return str(post["id"])
        return None

    async def moderate_comment(self, account: Account, comment_id: str) -> None:
        await self._with(account, lambda client: client.hide_reply(comment_id))
