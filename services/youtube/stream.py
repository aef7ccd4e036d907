"""A read-only, seekable view of a MinIO object that streams: nothing whole in memory or on disk.

``MediaIoBaseUpload`` seeks to the end once (to learn the size) and then to each chunk's start;
reading from a position other than where the open response stands reopens it with a ranged GET.
Each read starts the next one in a thread, so reading MinIO overlaps sending the previous chunk.
"""

from __future__ import annotations

import contextlib
import io
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from googleapiclient.http import MediaIoBaseUpload

from loa.media import MediaStore


class MinioStream(io.RawIOBase):
    """Reads ``size`` bytes of ``key``; after each read, the next read of the same size is already
    under way in a thread (``read_ahead``), so MinIO is read while the previous chunk is sent.
    At most two reads' worth of bytes are held: the one returned and the one ahead."""

    def __init__(self, media: MediaStore, key: str, size: int, *, read_ahead: bool = True) -> None:
        self._media = media
        self._key = key
        self._size = size
        self._pos = 0
        self._response: Any = None
        self._response_pos = -1
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="minio-read-ahead") if read_ahead else None
        self._ahead: tuple[int, int, Future[bytes]] | None = None
        self.reopens = 0
        self.ahead_hits = 0

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

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        size = min(size, self._size - self._pos)
        if size <= 0:
            return b""
        data = self._take_ahead(self._pos, size)
        if data is None:
            data = self._fetch(self._pos, size)
        else:
            self.ahead_hits += 1
        self._pos += len(data)
        self._start_ahead(size)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _take_ahead(self, pos: int, size: int) -> bytes | None:
        """The read ahead if it is this one; any other is waited for (it holds the response) and dropped."""
        if self._ahead is None:
            return None
        ahead_pos, ahead_size, future = self._ahead
        self._ahead = None
        try:
            data = future.result()
        except Exception:
            self._release()  # a failed speculative read: the next read reopens
            if (ahead_pos, ahead_size) == (pos, size):
                raise
            return None
        return data if (ahead_pos, ahead_size) == (pos, size) else None

    def _start_ahead(self, size: int) -> None:
        if self._executor is None or self._pos >= self._size:
            return
        pos, n = self._pos, min(size, self._size - self._pos)
        self._ahead = (pos, n, self._executor.submit(self._fetch, pos, n))

    def _fetch(self, pos: int, size: int) -> bytes:
        """``size`` bytes from ``pos`` (one thread at a time: the caller waits for any read ahead)."""
        if self._response is None or self._response_pos != pos:
            self._reopen(pos)
        parts = []
        wanted = size
        while wanted:
            data = self._response.read(wanted)
            if not data:
                raise OSError(f"media {self._key}: the store ended the stream at byte {self._response_pos}")
            parts.append(data)
            wanted -= len(data)
            self._response_pos += len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _reopen(self, pos: int) -> None:
        self._release()
        self._response = self._media.open(self._key, offset=pos)
        self._response_pos = pos
        self.reopens += 1

    def _release(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response.release_conn()
            self._response = None

    def close(self) -> None:
        if self._ahead is not None:
            _, _, future = self._ahead
            self._ahead = None
            future.cancel()
            with contextlib.suppress(Exception):  # a speculative read nobody wants
                future.result()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._release()
        super().close()


class ChunkedUpload(MediaIoBaseUpload):  # type: ignore[misc]
    """A resumable ``MediaIoBaseUpload`` that hands each chunk to the transport as one buffer.

    With a stream, http.client sends the body 8 KiB at a time (one TLS record and one syscall
    each); one ``bytes`` per chunk goes out in large writes. Memory stays bounded by two chunks
    (the one sent and the one ``MinioStream`` reads ahead; default 8 MiB each), never the file.
    """

    def has_stream(self) -> bool:
        return False
