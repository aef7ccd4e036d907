"""``POST /api/v1/media``: stream the body into MinIO under its sha256; never hold it whole."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction
from loa.media import IntegrityError, MediaStore, StoredObject
from loa.media.probe import ImageBombError
from loa.outages import OBJECT_STORE
from services.ingest.audit import OutboxAudit, refusals_recorded
from services.ingest.deps import DbDep, RelayDep, SettingsDep, StoreDep, Uploader, may_upload
from services.ingest.errors import ApiError, OutageError
from services.ingest.pipe import BodyTooLargeError, Pipe, ReaderGoneError, feed

log = logging.getLogger(__name__)

UPLOAD_PART_SIZE = 8 * 1024 * 1024
"""Smaller than the store's default: up to 3 parts are in flight to MinIO."""
SHA256_HEADER = "X-Content-SHA256"
"""Optional: the body's sha256 (hex), declared up front. The upload then goes straight to its
content address and completes only if the bytes match (no staging copy: faster for big files)."""
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

_SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    "image/webp": ((8, b"WEBP"),),
    "video/mp4": ((4, b"ftyp"),),
    "video/quicktime": ((4, b"ftyp"), (4, b"moov"), (4, b"mdat"), (4, b"wide"), (4, b"free")),
}


def check_signature(content_type: str, head: bytes) -> None:
    """Refuse an empty body, or one whose first bytes are not of the declared type."""
    if not head:
        raise ApiError(422, "empty_body", "the body is empty", [{"field": "body", "reason": "empty"}])
    signatures = _SIGNATURES.get(content_type)
    if signatures and not any(head[at : at + len(magic)] == magic for at, magic in signatures):
        raise ApiError(
            415,
            "content_mismatch",
            f"the bytes are not {content_type}",
            [{"field": "Content-Type", "reason": f"the body does not start like {content_type}"}],
        )


def _declared_length(request: Request, limit: int) -> None:
    raw = request.headers.get("content-length")
    if raw is None:
        return
    try:
        length = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", "Content-Length is not a number") from None
    if length > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"the media is {length} bytes; at most {limit} are accepted",
            [{"field": "Content-Length", "reason": f"above {limit} bytes"}],
        )


router = APIRouter()


@router.post(
    "/api/v1/media",
    status_code=201,
    dependencies=[Depends(refusals_recorded(AuditAction.MEDIA_UPLOAD, may_upload))],
)
async def upload_media(
    request: Request,
    client: Uploader,
    settings: SettingsDep,
    store: StoreDep,
    db: DbDep,
    relay: RelayDep,
) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in settings.media_types:
        allowed = ", ".join(sorted(settings.media_types))
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type or '(none)'!r} is not accepted ({allowed})",
            [{"field": "Content-Type", "reason": f"not one of {allowed}"}],
        )
    limit = settings.ingest_max_media_bytes
    _declared_length(request, limit)
    declared = request.headers.get(SHA256_HEADER)
    if declared is not None and not _HEX64.match(declared.strip().lower()):
        raise ApiError(
            400,
            "bad_request",
            f"{SHA256_HEADER} must be 64 hex digits",
            [{"field": SHA256_HEADER, "reason": "not a sha256 hex digest"}],
        )
    sha256 = declared.strip().lower() if declared else None
    stored = await _stream_to_store(request, store, content_type, limit, sha256)
    try:
        info = await store.aprobe(stored.key)
    except ImageBombError as e:
        # refused after storing (its size was only known from its header): the object goes too
        await asyncio.to_thread(store.remove, stored.key)
        raise ApiError(422, "image_too_large", str(e), [{"field": "body", "reason": str(e)}]) from None
    log.info("stored media %s (%d bytes, %s) for %s", stored.key, stored.size, content_type, client.name)
    async with db.sessions() as session, session.begin():
        detail = f"{stored.key} {content_type} {stored.size} bytes"
        await record(
            OutboxAudit(session, settings), actor(client, request), AuditAction.MEDIA_UPLOAD, detail=detail
        )
    relay.wake.set()
    body: dict[str, Any] = {
        "key": stored.key,
        "sha256": stored.sha256,
        "size": stored.size,
        "content_type": stored.content_type,
        "width": info.width,
        "height": info.height,
        "duration_s": info.duration_s,
    }
    return JSONResponse(body, status_code=201)


async def _stream_to_store(
    request: Request, store: MediaStore, content_type: str, limit: int, sha256: str | None
) -> StoredObject:
    pipe = Pipe()
    file: Any = pipe  # a readable binary stream is all the store needs

    def upload() -> StoredObject:
        try:
            if sha256 is not None:
                return store.put_stream_expecting(file, content_type, sha256, part_size=UPLOAD_PART_SIZE)
            return store.put_stream(file, content_type, part_size=UPLOAD_PART_SIZE)
        finally:
            pipe.reader_done = True

    task = asyncio.create_task(asyncio.to_thread(upload))
    try:
        await feed(pipe, request.stream(), limit, lambda head: check_signature(content_type, head))
    except BodyTooLargeError as e:
        await asyncio.gather(task, return_exceptions=True)
        raise ApiError(
            413,
            "payload_too_large",
            f"the media is larger than {e.limit} bytes",
            [{"field": "body", "reason": f"above {e.limit} bytes"}],
        ) from None
    except (ApiError, ClientDisconnect):
        await asyncio.gather(task, return_exceptions=True)
        raise
    except ReaderGoneError:
        pass  # the upload failed; its own error is raised below
    try:
        return await task
    except IntegrityError as e:
        raise ApiError(
            422, "sha256_mismatch", str(e), [{"field": SHA256_HEADER, "reason": "the bytes do not match"}]
        ) from None
    except Exception as e:
        log.warning("media upload to the store failed", exc_info=True)
        raise OutageError(OBJECT_STORE) from e
