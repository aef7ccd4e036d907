"""A correction's article on Zalo names its original: a text item on top of its body.

The link step (``ZaloAdapter.link_correction``) reads the correction's article back
(``article/getdetail``), puts ``Đính chính cho bài: <the original's article link>`` on top of its
body and sends the article whole with ``article/update`` (the fields ``article/create`` takes:
zaloplatform/zalo-java-sdk ``CreateNormalArticle.java``; the OA API answers -201 naming a field
left out). A video article has no body: it keeps its text, and only the broadcast applies.
"""

from __future__ import annotations

from typing import Any

from loa.channels.corrections import CORRECTION_LABEL

ARTICLE_FIELDS = ("type", "title", "author", "description", "body", "cover", "status", "comment")
"""What an ``article/update`` of a normal article sends back (``id`` beside them)."""


def link_item(original_url: str) -> dict[str, str]:
    return {"type": "text", "content": f"{CORRECTION_LABEL} cho bài: {original_url}"}


def has_link(detail: dict[str, Any], original_url: str) -> bool:
    """Whether the article's body already names the original (or it is a video article: no body)."""
    if detail.get("type") == "video":
        return True
    return link_item(original_url) in (detail.get("body") or [])


def with_link(detail: dict[str, Any], original_url: str) -> dict[str, Any]:
    """The article to send to ``article/update``: as read, the link to the original on top."""
    article = {key: detail[key] for key in ARTICLE_FIELDS if key in detail}
    article["body"] = [link_item(original_url), *(detail.get("body") or [])]
    return {"id": str(detail["id"]), **article}
