"""Render the event contract to ``docs/``: the AsyncAPI document and one JSON Schema per event.

``python -m loa.events.export`` writes the files; ``render()`` is what the staleness test compares.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from loa.events.audit import AuditRecorded
from loa.events.commands import (
    CancelDelivery,
    Command,
    HoldPublishing,
    ModerateComment,
    ReleaseDelivery,
    ReleasePublishing,
    RemoveAccount,
    ReplyToComment,
    RescheduleDelivery,
    RetryDelivery,
    SetAccount,
)
from loa.events.comment_actions import CommentActionSettled, DeliveryEvent
from loa.events.content import ContentApproved, ContentEvent, ContentRetracted, ContentUpdated
from loa.events.delivery import DeliveryStatus
from loa.events.engagement import CommentsObserved, EngagementObserved
from loa.events.payload import SentPost
from loa.settings import REPO_ROOT

SCHEMAS: dict[str, Any] = {
    "content-event": ContentEvent,
    "content-approved": ContentApproved,
    "content-updated": ContentUpdated,
    "content-retracted": ContentRetracted,
    "delivery-status": DeliveryStatus,
    "delivery-event": DeliveryEvent,
    "comment-action": CommentActionSettled,
    "command": Command,
    "delivery-retry": RetryDelivery,
    "delivery-cancel": CancelDelivery,
    "delivery-release": ReleaseDelivery,
    "delivery-reschedule": RescheduleDelivery,
    "publishing-hold": HoldPublishing,
    "publishing-release": ReleasePublishing,
    "account-set": SetAccount,
    "account-remove": RemoveAccount,
    "comment-reply": ReplyToComment,
    "comment-moderate": ModerateComment,
    "audit-recorded": AuditRecorded,
    "engagement-observed": EngagementObserved,
    "comments-observed": CommentsObserved,
    "sent-post": SentPost,
}


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def render() -> dict[str, str]:
    """Relative path under the repository → file text."""
    from loa.events.asyncapi import app

    files = {"docs/asyncapi/asyncapi.json": _dump(app.schema.to_specification().to_jsonable())}
    for name, model in SCHEMAS.items():
        schema = TypeAdapter(model).json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://loa.invalid/schemas/{name}.json"
        files[f"docs/schemas/{name}.json"] = _dump(schema)
    return files


def write(root: Path = REPO_ROOT) -> list[Path]:
    written = []
    for relative, text in render().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    for path in write():
        sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
