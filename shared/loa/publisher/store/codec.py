"""JSON forms of what the job store keeps: the rendered post, the platform's result, the error."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from loa.channels import ChannelError, Post, PublishResult
from loa.events import DeliveryError, ErrorClass, MediaRef
from loa.events.delivery import ERROR_EXCERPT_MAX, ERROR_MESSAGE_MAX, RecipientsReport
from loa.logging import redact
from loa.publisher.store.outage import STORE_UNAVAILABLE, is_database_outage


def post_to_json(post: Post) -> str:
    return json.dumps(post.document(), ensure_ascii=False)


def post_from_json(raw: str) -> Post:
    data: dict[str, Any] = json.loads(raw)
    due = data.get("due_at")
    return Post(
        content_id=data["content_id"],
        version=data["version"],
        channel=data["channel"],
        account=data["account"],
        marker=data["marker"],
        title=data.get("title"),
        texts=list(data.get("texts", [])),
        media=[MediaRef.model_validate(m) for m in data.get("media", [])],
        payload=dict(data.get("payload", {})),
        due_at=datetime.fromisoformat(due) if due else None,
        progress=dict(data.get("progress", {})),
    )


def result_to_json(result: PublishResult) -> str:
    return json.dumps(
        {
            "external_id": result.external_id,
            "url": result.url,
            "extra": dict(result.extra),
            "scheduled_natively": result.scheduled_natively,
            "recipients": result.recipients.model_dump(mode="json") if result.recipients else None,
        },
        ensure_ascii=False,
    )


def result_from_json(raw: str) -> PublishResult:
    data: dict[str, Any] = json.loads(raw)
    return PublishResult(
        external_id=data["external_id"],
        url=data.get("url"),
        extra=data.get("extra", {}),
        scheduled_natively=bool(data.get("scheduled_natively", False)),
        recipients=RecipientsReport.model_validate(data["recipients"]) if data.get("recipients") else None,
    )


def error_from_exception(error: BaseException) -> DeliveryError:
    """The delivery record of an adapter error (the platform's code and message kept)."""
    if isinstance(error, ChannelError):
        return DeliveryError(
            error_class=ErrorClass(error.error_class),
            code=error.code[:100] if error.code else None,
            message=redact(error.message or type(error).__name__)[:ERROR_MESSAGE_MAX],
            excerpt=redact(error.excerpt)[:ERROR_EXCERPT_MAX] if error.excerpt else None,
        )
    if is_database_outage(error):  # our job store, not the platform: retried like any transient error
        return DeliveryError(
            error_class=ErrorClass.TRANSIENT,
            code=STORE_UNAVAILABLE,
            message=f"job store unavailable ({type(error).__name__}); trying again",
        )
    # Anything else escaped the adapter's mapping: a bug, retried as transient with its type kept.
    return DeliveryError(
        error_class=ErrorClass.TRANSIENT,
        code=type(error).__name__[:100],
        message=redact(str(error) or type(error).__name__)[:ERROR_MESSAGE_MAX],
    )


def make_error(error_class: ErrorClass, message: str, code: str | None = None) -> DeliveryError:
    return DeliveryError(error_class=error_class, code=code, message=message[:ERROR_MESSAGE_MAX])


def error_to_json(error: DeliveryError) -> str:
    return error.model_dump_json()


def error_from_json(raw: str) -> DeliveryError:
    return DeliveryError.model_validate_json(raw)
