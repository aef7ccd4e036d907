"""A correction's link step: what the runtime hands an adapter to link a correction to its original.

A correction (``Content.kind == correction``) is published on each target as any content is; on the
channels that can link it to what it corrects (a Facebook comment, an X reply, a YouTube
description line, a Zalo broadcast), the runtime adds a second delivery, the *link step*, with its
own state. It is the same content and channel, on the account named ``<account>~đính-chính``
(``link_account``), so the tracker keeps it apart from the post without a new key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from loa.channels.base import Post, PublishResult

LINK_OPERATION = "link"
"""``jobs.operation`` of a link step (beside ``publish`` and ``update``)."""
LINK_SUFFIX = "~đính-chính"
"""Appended to the account of a link step's delivery (an account name never holds ``/`` or spaces;
``~`` keeps the name a valid ``AccountName``)."""
CORRECTION_LABEL = "Đính chính"
ORIGINAL_NOT_PUBLISHED = "bản gốc chưa đăng trên tài khoản này"
"""The note of a link step ended because the original was never published on that account."""


def link_account(account: str) -> str:
    """The account name of the link step's delivery on ``account``."""
    return account + LINK_SUFFIX


def base_account(account: str) -> str:
    """The real account of a delivery (the link step's account without its suffix)."""
    return account.removesuffix(LINK_SUFFIX)


def is_link_account(account: str) -> bool:
    return account.endswith(LINK_SUFFIX)


@dataclass(frozen=True)
class CorrectionLink:
    """One link step: the correction (its own post on this account, if it went) and the original."""

    post: Post
    """The link step's post (the runtime renders it): ``payload`` holds ``corrects``, ``url`` (the
    correction's website page), ``title``, ``summary`` and the target's ``options``; ``marker``
    names the step."""
    original: PublishResult
    """What this account published for the corrected content (the newest version online)."""
    correction: PublishResult | None
    """The correction's own post on this account, or None if it has none (e.g. no video for YouTube)."""
    corrected_on: date
    """The day of the correction (Asia/Ho_Chi_Minh), for the dated line some channels write."""

    @property
    def title(self) -> str:
        return str(self.post.payload["title"])

    @property
    def summary(self) -> str:
        """The correction's summary ("" for a step made before the payload carried it)."""
        return str(self.post.payload.get("summary", ""))

    @property
    def headline(self) -> str:
        """``Đính chính: <title>`` (the title as is when it already says so)."""
        title = self.title.strip()
        return (
            title
            if title.casefold().startswith(CORRECTION_LABEL.casefold())
            else f"{CORRECTION_LABEL}: {title}"
        )

    @property
    def options(self) -> Mapping[str, Any]:
        return dict(self.post.payload.get("options") or {})

    @property
    def url(self) -> str:
        """The correction's link a reader follows: its post on this platform, else its website page."""
        if self.correction is not None and self.correction.url:
            return self.correction.url
        return str(self.post.payload["url"])

    @property
    def website_url(self) -> str:
        return str(self.post.payload["url"])
