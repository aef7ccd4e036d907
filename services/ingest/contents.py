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
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from loa.access import Principal
from loa.access.policy import Action, Policy
from loa.access.principal import ALL_UNITS
from loa.access.requests import actor
from loa.audit import record
from loa.events import (
    AuditAction,
    Content,
    ContentApproved,
    ContentRetracted,
    ContentUpdated,
    Retraction,
    topics,
    utcnow,
)
from loa.events.content import ContentId, PlainText, Priority, publish_at_problem
from loa.kafka import max_event_bytes
from loa.links import canonical_url
from loa.media import IntegrityError, MediaStore
from services.ingest.audit import SUBJECT, OutboxAudit, refusals_recorded
from services.ingest.auth import require
from services.ingest.corrections import check_corrected, check_submitter
from services.ingest.db import ContentRecord, IdempotentAnswer, OutboxRow
from services.ingest.deps import (
    DbDep,
    PolicyDep,
    RelayDep,
    Retractor,
    SettingsDep,
    StoreDep,
    Submitter,
    TargetsDep,
    TwoPersonDep,
    WriteLockDep,
    may_retract,
    may_submit,
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

    def __init__(self, request: Request, client: Principal, body: bytes) -> None:
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


def _prepare(submission: Submission, client: Principal) -> dict[str, Any]:
    """Who approved it is who is authenticated; when, now unless given.

    A typed ``approved_by`` is refused rather than ignored: a client that believes it set the
    approver must learn it did not (the one it recorded goes in ``approver_claim``)."""
    payload = dict(submission.payload)
    if "approved_by" in payload:
        reason = (
            "set by Loa to the authenticated account, never by the client; "
            "pass the approver your system recorded as payload.approver_claim"
        )
        field = {"field": "payload.approved_by", "reason": reason}
        raise ApiError(422, "approved_by_not_accepted", reason, [field])
    payload["approved_by"] = client.name
    payload.setdefault("approved_at", utcnow().isoformat())
    return payload


def _check_owner(policy: Policy, client: Principal, known: ContentRecord) -> None:
    """A new version comes from the content's submitter, or from one who may update its unit's."""
    if known.submitted_by == client.name:
        return
    refusal = policy.refusal(client, Action.UPDATE, known.unit or ALL_UNITS)
    if refusal is not None:
        owner = known.submitted_by or "a client before accounts were recorded"
        why = f"content {known.id} was submitted by {owner}; {refusal}"
        raise ApiError(403, "not_your_content", why, [{"field": "payload.id", "reason": why}])


def _with_lane(content: Content, detail: str = "") -> str:
    """The audit detail of a submission, saying so when it takes the urgent lane."""
    if content.priority is not Priority.URGENT:
        return detail
    return "urgent (priority: urgent)" + (f"; {detail}" if detail else "")


def _check_publish_at(content: Content) -> None:
    """A first publication dated long before now would go out at once under an old date."""
    problem = publish_at_problem(content, utcnow(), "now")
    if problem is not None:
        field = {"field": "payload.publish_at", "reason": problem}
        raise ApiError(422, "publish_at_in_past", problem, [field])


def _require_alt(content: Content) -> None:
    """Every image says what it shows: readers of the website (WCAG 2.1 1.1.1, non-text content)
    and of X and Facebook, which receive it as the photo's alt text, depend on it."""
    for i, ref in enumerate(content.media):
        if ref.is_image and not ref.alt.strip():
            reason = "an image needs alt text: a short description of what it shows"
            raise ApiError(
                422, "alt_text_missing", reason, [{"field": f"payload.media.{i}.alt", "reason": reason}]
            )


async def _check_media(content: Content, store: MediaStore) -> Content:
    """Every reference exists with its declared size and type; probe what was not declared."""
    _require_alt(content)
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


@router.post(
    "/api/v1/contents",
    status_code=202,
    dependencies=[Depends(refusals_recorded(AuditAction.SUBMIT, may_submit))],
)
async def submit(
    request: Request,
    client: Submitter,
    policy: PolicyDep,
    settings: SettingsDep,
    db: DbDep,
    store: StoreDep,
    targets: TargetsDep,
    relay: RelayDep,
    write_lock: WriteLockDep,
    two_person: TwoPersonDep,
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
    setattr(
        request.state, SUBJECT, {"content_id": content.id, "version": content.version, "unit": content.unit}
    )
    website = str(settings.website_base_url)
    require(policy, client, Action.SUBMIT, content.unit, "payload.unit")
    check_submitter(policy, client, content)
    if content.priority is Priority.URGENT:
        require(policy, client, Action.PUBLISH_URGENT, content.unit, "payload.priority")
    targets.check_channels(content)
    await targets.check_units(content, client, policy)
    await targets.check_accounts(content, canonical_url(content, website))
    content = await _check_media(content, store)
    async with write_lock, db.sessions() as session, session.begin():
        replayed = await idempotency.replay(session)
        if replayed is not None:
            return replayed
        await check_corrected(session, policy, client, content)
        if two_person.applies(content.unit, client):
            await check_record(session, content, lambda r: _check_owner(policy, client, r))
            body = await two_person.hold(session, settings, content, client, submission.correlation_id)
            await record(
                OutboxAudit(session, settings),
                actor(client, request),
                AuditAction.SUBMIT,
                content_id=content.id,
                version=content.version,
                unit=content.unit,
                detail=_with_lane(content, "awaiting approval (two-person rule)"),
            )
            idempotency.remember(session, 202, body)
            log.info(
                "v%d from %s awaits approval", content.version, client.name, extra={"content_id": content.id}
            )
            return JSONResponse(body, status_code=202)
        event, body = await accept(
            session,
            settings,
            content,
            client.name,
            submission.correlation_id,
            lambda r: _check_owner(policy, client, r),
        )
        await record(
            OutboxAudit(session, settings),
            actor(client, request),
            AuditAction.SUBMIT if isinstance(event, ContentApproved) else AuditAction.UPDATE,
            content_id=content.id,
            version=content.version,
            unit=content.unit,
            detail=_with_lane(content, f"correction of {content.corrects}" if content.corrects else ""),
        )
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


@router.post(
    "/api/v1/contents/{content_id}/retract",
    status_code=202,
    dependencies=[Depends(refusals_recorded(AuditAction.RETRACT, may_retract))],
)
async def retract(
    content_id: str,
    request: Request,
    client: Retractor,
    policy: PolicyDep,
    settings: SettingsDep,
    db: DbDep,
    relay: RelayDep,
    write_lock: WriteLockDep,
) -> JSONResponse:
    try:
        ContentIdModel.model_validate({"id": content_id})
    except ValidationError as e:
        raise ApiError(422, "validation_error", "invalid content id", field_errors(e)) from None
    setattr(request.state, SUBJECT, {"content_id": content_id})
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
        known = await session.get(ContentRecord, content_id, with_for_update=True)
        if known is None:
            raise ApiError(404, "not_found", f"content {content_id} is unknown to the ingest")
        require(policy, client, Action.RETRACT, known.unit or ALL_UNITS, "content_id")
        await refuse_if_retracted(session, content_id, "id", code="already_retracted")
        retraction = Retraction(id=content_id, reason=asked.reason, requested_by=client.name)
        event = ContentRetracted(payload=retraction, producer=PRODUCER, correlation_id=asked.correlation_id)
        await record_retraction(session, event)  # at once: the tracker and this ingest agree from now
        known.updated_at = utcnow()
        body = {
            "id": content_id,
            "version": known.version,
            "type": event.type,
            "event_id": str(event.event_id),
            "status": QUEUED,
            "status_url": _status_url(settings, content_id),
        }
        _enqueue(session, settings, content_id, event.model_dump_json())
        await record(
            OutboxAudit(session, settings),
            actor(client, request),
            AuditAction.RETRACT,
            reason=asked.reason,
            content_id=content_id,
            version=known.version,
        )
        idempotency.remember(session, 202, body)
    relay.wake.set()
    log.info("retracted by %s", client.name, extra={"content_id": content_id})
    return JSONResponse(body, status_code=202)


class ContentIdModel(BaseModel):
    id: ContentId


def _check_version(known: ContentRecord, content: Content) -> None:
    if content.version <= known.version:
        raise ApiError(
            409,
            "version_conflict",
            f"content {content.id} is at version {known.version}; a new version must be higher",
            [{"field": "payload.version", "reason": f"must be greater than {known.version}"}],
        )


async def check_record(
    session: AsyncSession, content: Content, check_owner: Callable[[ContentRecord], None]
) -> None:
    """The content's owner and version allow this submission (403 / 409), before anything is kept."""
    await refuse_if_retracted(session, content.id, "payload.id")
    known = await session.get(ContentRecord, content.id)
    if known is not None:
        check_owner(known)
        _check_version(known, content)


async def accept(
    session: AsyncSession,
    settings: IngestSettings,
    content: Content,
    submitted_by: str,
    correlation_id: str | None,
    check_owner: Callable[[ContentRecord], None],
) -> tuple[ContentApproved | ContentUpdated, dict[str, Any]]:
    """Record the version and put its event in the outbox, in the caller's transaction; the answer's body."""
    website = str(settings.website_base_url)
    known = await session.get(ContentRecord, content.id, with_for_update=True)
    await refuse_if_retracted(session, content.id, "payload.id")  # from either door, even while it waited
    event: ContentApproved | ContentUpdated
    if known is None:
        _check_publish_at(content)
        url = canonical_url(content, website)
        content = content.model_copy(update={"canonical_url": HttpUrl(url)})
        event = ContentApproved(payload=content, producer=PRODUCER, correlation_id=correlation_id)
        session.add(
            ContentRecord(
                id=content.id,
                version=content.version,
                canonical_url=url,
                submitted_by=submitted_by,
                unit=content.unit,
            )
        )
    else:
        check_owner(known)
        _check_version(known, content)
        content = content.model_copy(update={"canonical_url": HttpUrl(known.canonical_url)})
        event = ContentUpdated(payload=content, producer=PRODUCER, correlation_id=correlation_id)
        known.version = content.version
        known.unit = content.unit
        known.updated_at = utcnow()
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
    return event, body


QUEUED = "queued"
"""Accepted and stored with the request; the relay puts it on ``loa.content.v1`` once Kafka answers."""


def _enqueue(session: AsyncSession, settings: IngestSettings, key: str, payload: str) -> None:
    """The event, in the caller's transaction: committed with the request's other rows or not at all."""
    session.add(OutboxRow(topic=settings.topic(topics.CONTENT), key=key, payload=payload))


def _status_url(settings: IngestSettings, content_id: str) -> str:
    """Where the tracker shows the content's deliveries."""
    return f"{str(settings.tracker_url).rstrip('/')}/api/v1/contents/{content_id}"
