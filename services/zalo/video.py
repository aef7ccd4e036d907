"""Zalo video articles: upload the video (streamed from MinIO), wait until Zalo has processed it.

Calls (zaloplatform/zalo-java-sdk ``UploadVideoForArticle.java``, ``CheckStatusVideo.java``,
``CreateVideoArticle.java``): ``POST /v2.0/article/upload_video/preparevideo`` (multipart field
``file``) → ``{"token"}``; ``GET /v2.0/article/upload_video/verify`` with the upload token in the
``token`` header → ``{"video_id", "status", "status_message", "convert_percent"}``; then
``article/create`` with ``type: "video"``, ``video_id`` and ``avatar`` (a cover image URL).
Verify statuses as public clients read them: 1 ready, 2 locked, 3 processing, 4 failed, 5 deleted.
"""

from __future__ import annotations

import io
from typing import Any

VIDEO_TYPES = {"video/mp4": "mp4", "video/x-msvideo": "avi"}  # "MP4/AVI, ≤ 50 MB" (issue 8; unconfirmed)
VIDEO_MAX_BYTES = 50 * 1024 * 1024
STATUS_READY, STATUS_PROCESSING = 1, 3
STATUS_FAILED = {2: "locked", 4: "failed", 5: "deleted"}


class SizedStream(io.RawIOBase):
    """A forward-only stream (MinIO's response) whose size is known, so httpx sends a
    Content-Length instead of a chunked body; never more than one read buffer in memory."""

    def __init__(self, raw: Any, size: int) -> None:
        super().__init__()
        self._raw = raw
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._raw.read(n if n is not None and n >= 0 else None)
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Only the probes httpx makes: the end (to learn the size) and 'stay where you are'."""
        if whence == io.SEEK_END and offset == 0:
            return self._size  # reported, not moved: the next seek comes back here
        if whence == io.SEEK_SET and offset == self._position:
            return self._position
        raise io.UnsupportedOperation("a streamed video cannot seek")

    def close(self) -> None:
        try:
            self._raw.close()
            release = getattr(self._raw, "release_conn", None)
            if release is not None:
                release()
        finally:
            super().close()
