"""The Content Posting API calls the adapter makes, over httpx (TikTok publishes no Python SDK).

Sources: developers.tiktok.com/doc/content-posting-api-reference-direct-post (``creator_info/query``,
``video/init``), …/content-posting-api-media-transfer-guide (the chunk PUTs),
…/content-posting-api-reference-get-video-status (``status/fetch``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from loa.channels import TransientError, media_missing
from loa.channels.in_doubt import transport_error
from loa.media import MediaStore
from loa.tls import client_context
from services.tiktok import errors
from services.tiktok.chunks import ChunkPlan

CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
JSON_UTF8 = "application/json; charset=UTF-8"
READ_BYTES = 1024 * 1024
"""A chunk goes out as it is read from MinIO, a mebibyte at a time: never a whole chunk in memory."""

# httpx logs every request's URL at INFO; an upload URL carries its upload_token.
logging.getLogger("httpx").setLevel(logging.WARNING)


class TikTokApi:
    """One httpx client for every account; each call carries its account's Bearer token."""

    def __init__(self, base_url: str, timeout: float, upload_timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.upload_timeout = upload_timeout
        self._http = httpx.AsyncClient(timeout=timeout, verify=client_context())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def creator_info(self, token: str) -> dict[str, Any]:
        """The creator's nickname, username, ``privacy_level_options``, ``comment_disabled``,
        ``duet_disabled``, ``stitch_disabled`` and ``max_video_post_duration_sec``."""
        return await self._post(CREATOR_INFO, token, None, "creator_info/query")

    async def init(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """``{"publish_id", "upload_url"}`` of a new Direct Post (not idempotent: one post each)."""
        return await self._post(VIDEO_INIT, token, body, "video/init")

    async def status(self, token: str, publish_id: str) -> dict[str, Any]:
        """``status``, ``fail_reason``, ``uploaded_bytes`` and ``publicaly_available_post_id``
        (TikTok's spelling)."""
        return await self._post(STATUS_FETCH, token, {"publish_id": publish_id}, "status/fetch")

    async def put_chunk(
        self, upload_url: str, plan: ChunkPlan, index: int, content_type: str, media: MediaStore, key: str
    ) -> int:
        """PUT chunk ``index`` streamed from MinIO; TikTok answers 206 while chunks are missing and
        201 once the video is whole. Returns the status."""
        first, length = plan.span(index)
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(length),
            "Content-Range": plan.content_range(index),
        }
        what = f"upload chunk {index + 1}/{plan.total_chunk_count}"
        try:
            response = await self._http.put(
                upload_url,
                content=_read(media, key, first, length),
                headers=headers,
                timeout=self.upload_timeout,
            )
        except httpx.TransportError as e:  # the last chunk completes the video TikTok then posts
            raise _unreachable(what, e, creates=True) from e
        except OSError as e:  # the store, while streaming
            raise media_missing(e) or TransientError(f"media {key}: {e}") from e
        if response.status_code in (200, 201, 206):
            return response.status_code
        raise errors.to_error(response, what)

    async def _post(self, path: str, token: str, body: dict[str, Any] | None, what: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": JSON_UTF8}
        try:
            response = await self._http.post(self.base_url + path, json=body, headers=headers)
        except httpx.TransportError as e:
            # No POST here makes a post: an init whose answer was lost never gets a byte, and TikTok
            # publishes nothing without the whole video (``find_existing``).
            raise _unreachable(what, e, creates=False) from e
        return errors.check(response, what)


def _unreachable(what: str, error: httpx.TransportError, *, creates: bool) -> TransientError:
    timed_out = isinstance(error, httpx.TimeoutException)
    message = f"TikTok {what}: timed out" if timed_out else f"TikTok {what}: {type(error).__name__}"
    return transport_error(message, error, creates=creates, code="timeout" if timed_out else None)


async def _read(media: MediaStore, key: str, first: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of ``key`` from ``first``: one ranged GET, read a mebibyte at a time."""
    try:
        response = await asyncio.to_thread(media.open, key, first, length)
    except Exception as e:
        raise media_missing(e) or OSError(f"media {key}: {type(e).__name__}") from e
    try:
        left = length
        while left:
            data = await asyncio.to_thread(response.read, min(READ_BYTES, left))
            if not data:
                raise OSError(f"media {key}: the store ended the stream {left} bytes early")
            left -= len(data)
            yield data
    finally:
        response.close()
        response.release_conn()
