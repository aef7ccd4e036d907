"""A read-only, seekable view of a MinIO object that streams: nothing whole in memory or on disk.

``MediaIoBaseUpload`` seeks to the end once (to learn the size) and then to each chunk's start;
reading from a position other than where the open response stands reopens it with a ranged GET.
"""

from __future__ import annotations

import io
import os
from typing import Any

from googleapiclient.http import MediaIoBaseUpload

from loa.media import MediaStore


class MinioStream(io.RawIOBase):
    def __init__(self, media: MediaStore, key: str, size: int) -> None:
        self._media = media
        self._key = key
        self._size = size
        self._pos = 0
        self._response: Any = None
        self._response_pos = -1
        self.reopens = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, min(base + offset, self._size))
        return self._pos

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        size = min(size, self._size - self._pos)
        if size <= 0:
            return b""
        if self._response is None or self._response_pos != self._pos:
            self._reopen()
        parts = []
        wanted = size
        while wanted:
            data = self._response.read(wanted)
            if not data:
                raise OSError(f"media {self._key}: the store ended the stream at byte {self._pos}")
            parts.append(data)
            wanted -= len(data)
            self._pos += len(data)
        self._response_pos = self._pos
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _reopen(self) -> None:
        self._release()
        self._response = self._media.open(self._key, offset=self._pos)
        self._response_pos = self._pos
        self.reopens += 1

    def _release(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response.release_conn()
            self._response = None

    def close(self) -> None:
        self._release()
        super().close()


class ChunkedUpload(MediaIoBaseUpload):  # type: ignore[misc]
    """A resumable ``MediaIoBaseUpload`` that hands each chunk to the transport as one buffer.

    With a stream, http.client sends the body 8 KiB at a time (one TLS record and one syscall
    each); one ``bytes`` per chunk goes out in large writes. Memory stays bounded by the chunk
    size (default 8 MiB), never the file.
    """

    def has_stream(self) -> bool:
        return False
