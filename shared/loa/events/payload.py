"""``loa.payload.v1``: what a publisher sent at an attempt, for the archive of record.

Not an envelope: the value is the archived object itself, the canonical JSON of the rendered post
(``loa.archive.payload.sent_payload``), and the key is its SHA-256 (hex), which the attempt's status
events name (``Delivery.payload_sha256``). The archiver stores the bytes as they came, under that
hash; this model checks their shape. Fields a newer publisher adds are kept (``extra="allow"``):
what was sent is never refused for saying more.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from loa.events.content import AccountName, ChannelName, ContentId


class SentPost(BaseModel):
    """A rendered post as a channel's publisher sent it (``loa.channels.Post`` without ``progress``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    content_id: ContentId
    version: Annotated[int, Field(ge=1)]
    channel: ChannelName
    account: AccountName
    marker: Annotated[str, Field(min_length=1, description="the token that finds the post on its platform")]
    title: str | None = None
    texts: list[str] = Field(default_factory=list, description="every text the platform counts")
    media: list[dict[str, Any]] = Field(default_factory=list, description="media by their sha256/<hex> keys")
    payload: dict[str, Any] = Field(default_factory=dict, description="what else the channel's call sends")
    due_at: str | None = Field(default=None, description="ISO 8601, zone aware")


def parse_sent_post(raw: bytes | str) -> SentPost:
    """Raises ``pydantic.ValidationError`` naming the field and the reason."""
    return SentPost.model_validate_json(raw)
