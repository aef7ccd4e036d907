"""Replying to and hiding citizens' comments on the Page's posts (issue #18 item 3).

- Reply: ``POST /{comment-id}/comments`` with ``message`` answers ``{"id": "<reply-id>"}`` (Comments
  edge, "Publishing", developers.facebook.com/docs/graph-api/reference/object/comments; a reply to a
  comment is a comment on the comment). With a Page token it is made as the Page.
- Hide: ``POST /{comment-id}`` with ``is_hidden=true`` answers ``{"success": true}`` (Comment
  reference, "Updating", developers.facebook.com/docs/graph-api/reference/comment: "is_hidden —
  whether this comment is hidden or visible"; the author and their friends still see it). Hiding
  a hidden comment again changes nothing.
- An in-doubt reply is looked for under the comment (``GET /{comment-id}/comments``, newest first):
  a reply ``from`` the Page with the same text is the one already made.
"""

from __future__ import annotations

import unicodedata
from typing import ClassVar

from loa.channels import Account
from loa.channels.comment_actions import CommentActions
from services.facebook.graph import GraphClient


class FacebookCommentActions(CommentActions):
    moderation: ClassVar[str] = "hidden"
    graph: GraphClient

    @staticmethod
    def _page_token(account: Account) -> str:
        return account.secret("page_access_token")

    async def reply_to_comment(self, account: Account, comment_id: str, text: str) -> str:
        body = await self.graph.call(
            self._page_token(account), f"{comment_id}/comments", post_args={"message": text}
        )
        return str(body["id"])

    async def find_comment_reply(self, account: Account, comment_id: str, text: str) -> str | None:
        args = {"fields": "id,message,from", "order": "reverse_chronological", "limit": "100"}
        body = await self.graph.call(self._page_token(account), f"{comment_id}/comments", args=args)
        page_id = str(account.options.get("page_id") or account.name)
        wanted = unicodedata.normalize("NFC", text)
        for item in body.get("data", []):
            mine = str((item.get("from") or {}).get("id", "")) == page_id
            if mine and unicodedata.normalize("NFC", item.get("message", "")) == wanted:
                return str(item["id"])
        return None

    async def moderate_comment(self, account: Account, comment_id: str) -> None:
        await self.graph.call(self._page_token(account), comment_id, post_args={"is_hidden": "true"})
