"""``POST /api/v1/contents`` and ``/{id}/retract``: validate, check media, accept one event durably.

The event is written to the ingest's outbox in the transaction that records the version (and the
Idempotency-Key answer), so a request is either accepted whole before any waiting or not at all;
the relay (``relay.py``) then produces it to ``loa.content.v1``. The answer (202, status
``queued``) never waits for Kafka, so it comes within moments whether Kafka is up or not.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from loa.events import (
    Content,
    ContentApproved,
    ContentRetracted,
    ContentUpdated,
    Retraction,
    topics,
    utcnow,
)
from loa.events.content import ContentId, PlainText, publish_at_problem
from loa.kafka import max_event_bytes
from loa.links import canonical_url
from loa.media import IntegrityError, MediaStore
from services.ingest.auth import Client
from services.ingest.db import ContentRecord, IdempotentAnswer, OutboxRow
from services.ingest.deps import (
    DbDep,
    PublishingClient,
    RelayDep,
    RetractingClient,
    SettingsDep,
    StoreDep,
    TargetsDep,
    WriteLockDep,
)
from services.ingest.errors import ApiError, field_errors, validation_error
from services.ingest.retractions import record_retraction, refuse_if_retracted
from services.ingest.settings import IngestSettings

log = logging.getLogger(__name__)

PRODUCER = "loa-ingest"
IDEMPOTENCY_KEY_MAX = 200


class Submission(BaseModel):
    """The request body of ``POST /api/v1/contents``: the content as ``payload``."""

    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any]
    correlation_id: Annotated[PlainText, Field(max_length=200)] | None = None


class RetractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[PlainText, Field(min_length=1, max_length=2000)]
    correlation_id: Annotated[PlainText, Field(max_length=200)] | None = None


def too_large(limit: int, what: str = "the body") -> ApiError:
    """413 naming the limit: Kafka would refuse the event, so retrying the same body never helps."""
    return ApiError(
        413,
        "payload_too_large",
        f"{what} is above {limit} bytes, the largest event Kafka accepts (LOA_KAFKA_MAX_MESSAGE_BYTES)",
        [{"field": "body", "reason": f"larger than {limit} bytes; shorten the body or move media out"}],
    )


async def read_json(request: Request, limit: int) -> tuple[bytes, Any]:
    """The raw body (capped, counted while streaming) and its JSON value."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(
            400,
            "invalid_utf8",
            f"the body is not UTF-8 (byte {e.start})",
            [{"field": "body", "reason": str(e)}],
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ApiError(
            400,
            "malformed_json",
            f"the body is not JSON: {e.msg} at line {e.lineno} column {e.colno}",
            [{"field": "body", "reason": e.msg}],
        ) from None
    return bytes(body), value


class Idempotency:
    """``Idempotency-Key``: the first successful answer is kept and replayed; another body is a 409."""

    def __init__(self, request: Request, client: Client, body: bytes) -> None:
        self.key = request.headers.get("idempotency-key")
        if self.key is not None and not (0 < len(self.key) <= IDEMPOTENCY_KEY_MAX):
            raise ApiError(
                400,
                "bad_request",
                "Idempotency-Key must have 1 to 200 characters",
                [{"field": "Idempotency-Key", "reason": "length"}],
            )
        self.client = client.name
        self.request_hash = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()

    async def replay(self, session: AsyncSession) -> JSONResponse | None:
        if self.key is None:
            return None
        answer = await session.get(IdempotentAnswer, (self.client, self.key))
        if answer is None:
            return None
        if answer.request_hash != self.request_hash:
            raise ApiError(
                409,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request",
                [{"field": "Idempotency-Key", "reason": "already used with a different body"}],
            )
        return JSONResponse(
            json.loads(answer.body), status_code=answer.status, headers={"Idempotent-Replay": "true"}
        )

    def remember(self, session: AsyncSession, status: int, body: dict[str, Any]) -> None:
        if self.key is not None:
            session.add(
                IdempotentAnswer(
                    client=self.client,
                    key=self.key,
                    request_hash=self.request_hash,
                    status=status,
                    body=json.dumps(body, ensure_ascii=False),
                )
            )


def _prepare(submission: Submission, client: Client) -> dict[str, Any]:
    """People's defaults: who approved it (the client) and when (now), unless given."""
    payload = dict(submission.payload)
    payload.setdefault("approved_by", client.name)
    payload.setdefault("approved_at", utcnow().isoformat())
    return payload


def _check_publish_at(content: Content) -> None:
    """A first publication dated long before now would go out at once under an old date."""
    problem = publish_at_problem(content, utcnow(), "now")
    if problem is not None:
        field = {"field": "payload.publish_at", "reason": problem}
        raise ApiError(422, "publish_at_in_past", problem, [field])


async def _check_media(content: Content, store: MediaStore) -> Content:
    """Every reference exists with its declared size and type; probe what was not declared."""
    media = []
    for i, ref in enumerate(content.media):
        stored = await store.astat(ref.key)
        if stored is None:
            raise ApiError(
                422,
                "media_not_found",
                f"media {ref.key} was not uploaded",
                [{"field": f"payload.media.{i}.key", "reason": "no such media; upload it first"}],
            )
        try:
            await store.averify(ref.key, ref.sha256, ref.size)
        except IntegrityError as e:
            raise ApiError(
                422, "media_mismatch", str(e), [{"field": f"payload.media.{i}.size", "reason": str(e)}]
            ) from None
        if stored.content_type != ref.content_type:
            reason = f"stored as {stored.content_type}, declared {ref.content_type}"
            raise ApiError(
                422,
                "media_mismatch",
                reason,
                [{"field": f"payload.media.{i}.content_type", "reason": reason}],
            )
        if ref.width is None and ref.height is None and ref.duration_s is None:
            info = await store.aprobe(ref.key)
            ref = ref.model_copy(
                update={"width": info.width, "height": info.height, "duration_s": info.duration_s}
            )
        media.append(ref)
    return content.model_copy(update={"media": media})


router = APIRouter()


@router.post("/api/v1/contents", status_code=202)
async def submit(
    request: Request,
    client: PublishingClient,
    settings: SettingsDep,
    db: DbDep,
    store: StoreDep,
    targets: TargetsDep,
    relay: RelayDep,
    write_lock: WriteLockDep,
) -> JSONResponse:
    raw, value = await read_json(request, settings.max_content_body_bytes)
    idempotency = Idempotency(request, client, raw)
    async with db.sessions() as session:
        replayed = await idempotency.replay(session)
    if replayed is not None:
        return replayed
    try:
        submission = Submission.model_validate(value)
    except ValidationError as e:
        raise validation_error(e) from None
    try:
        content = Content.model_validate(_prepare(submission, client))
    except ValidationError as e:
        raise validation_error(e, prefix="payload") from None
    website = str(settings.website_base_url)
    targets.check_channels(content)
    await targets.check_accounts(content, canonical_url(content, website))
    content = await _check_media(content, store)
    async with write_lock, db.sessions() as session, session.begin():
        replayed = await idempotency.replay(session)
        if replayed is not None:
            return replayed
        record = await session.get(ContentRecord, content.id, with_for_update=True)
        await refuse_if_retracted(session, content.id, "payload.id")
        event: ContentApproved | ContentUpdated
        if record is None:
            _check_publish_at(content)
            url = canonical_url(content, website)
            content = content.model_copy(update={"canonical_url": HttpUrl(url)})
            event = ContentApproved(
                payload=content, producer=PRODUCER, correlation_id=submission.correlation_id
            )
            session.add(ContentRecord(id=content.id, version=content.version, canonical_url=url))
        else:
            _check_version(record, content)
            content = content.model_copy(update={"canonical_url": HttpUrl(record.canonical_url)})
            event = ContentUpdated(
                payload=content, producer=PRODUCER, correlation_id=submission.correlation_id
            )
            record.version = content.version
            record.updated_at = utcnow()
        event = type(event).model_validate_json(event.model_dump_json())  # the wire form, checked
        body = {
            "id": content.id,
            "version": content.version,
            "type": event.type,
            "event_id": str(event.event_id),
            "canonical_url": str(event.payload.canonical_url),
            "status": QUEUED,
            "status_url": _status_url(settings, content.id),
        }
        value = event.model_dump_json()
        max_event = max_event_bytes(settings)
        if len(value.encode()) > max_event:  # Kafka would refuse it: permanent, not worth queueing
            raise too_large(max_event, f"the event built from this body ({len(value.encode())} bytes)")
        _enqueue(session, settings, content.id, value)
        idempotency.remember(session, 202, body)
    relay.wake.set()
    log.info(
        "accepted %s v%d from %s",
        event.type,
        content.version,
        client.name,
        extra={"content_id": content.id, "version": content.version, "event_id": str(event.event_id)},
    )
    return JSONResponse(body, status_code=202)


@router.post("/api/v1/contents/{content_id}/retract", status_code=202)
async def retract(
    content_id: str,
    request: Request,
    client: RetractingClient,
    settings: SettingsDep,
    db: DbDep,
    relay: RelayDep,
    write_lock: WriteLockDep,
) -> JSONResponse:
    try:
        ContentIdModel.model_validate({"id": content_id})
    except ValidationError as e:
        raise ApiError(422, "validation_error", "invalid content id", field_errors(e)) from None
    raw, value = await read_json(request, settings.max_content_body_bytes)
    idempotency = Idempotency(request, client, raw)
    try:
        asked = RetractRequest.model_validate(value)
    except ValidationError as e:
        raise validation_error(e) from None
    async with write_lock, db.sessions() as session, session.begin():
        replayed = await idempotency.replay(session)
        if replayed is not None:
            return replayed
        record = await session.get(ContentRecord, content_id, with_for_update=True)
        if record is None:
            raise ApiError(404, "not_found", f"content {content_id} is unknown to the ingest")
        await refuse_if_retracted(session, content_id, "id", code="already_retracted")
        retraction = Retraction(id=content_id, reason=asked.reason, requested_by=client.name)
        event = ContentRetracted(payload=retraction, producer=PRODUCER, correlation_id=asked.correlation_id)
        await record_retraction(session, event)  # at once: the tracker and this ingest agree from now
        record.updated_at = utcnow()
        body = {
            "id": content_id,
            "version": record.version,
            "type": event.type,
            "event_id": str(event.event_id),
            "status": QUEUED,
            "status_url": _status_url(settings, content_id),
        }
        _enqueue(session, settings, content_id, event.model_dump_json())
        idempotency.remember(session, 202, body)
    relay.wake.set()
    log.info("retracted by %s", client.name, extra={"content_id": content_id})
    return JSONResponse(body, status_code=202)


class ContentIdModel(BaseModel):
    id: ContentId


def _check_version(record: ContentRecord, content: Content) -> None:
    if content.version <= record.version:
        raise ApiError(
            409,
            "version_conflict",
            f"content {content.id} is at version {record.version}; a new version must be higher",
            [{"field": "payload.version", "reason": f"must be greater than {record.version}"}],
        )


QUEUED = "queued"
"""Accepted and stored with the request; the relay puts it on ``loa.content.v1`` once Kafka answers."""


def _enqueue(session: AsyncSession, settings: IngestSettings, key: str, payload: str) -> None:
    """The event, in the caller's transaction: committed with the request's other rows or not at all."""
    session.add(OutboxRow(topic=settings.topic(topics.CONTENT), key=key, payload=payload))


def _status_url(settings: IngestSettings, content_id: str) -> str:
    """Where the tracker shows the content's deliveries."""
    return f"{str(settings.tracker_url).rstrip('/')}/api/v1/contents/{content_id}"
