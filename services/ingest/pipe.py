"""Stream an HTTP request body into the (blocking) media store without holding it whole.

The event loop pushes batches of the body into a bounded queue; the uploading thread reads them
as a file. At most ``QUEUE_BATCHES * BATCH_BYTES`` wait in the queue, plus what the MinIO client
holds for the parts it is sending.
"""

from __future__ import annotations

import asyncio
import io
import queue
from collections.abc import AsyncIterator, Callable

BATCH_BYTES = 1024 * 1024
QUEUE_BATCHES = 4
_PUT_POLL_S = 0.5


class BodyTooLargeError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


class ReaderGoneError(Exception):
    """The uploading thread stopped reading (it failed); the feeder stops too."""


class Pipe(io.RawIOBase):
    """A file the uploading thread reads, fed by the event loop."""

    def __init__(self) -> None:
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(QUEUE_BATCHES)
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self.reader_done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Block until ``size`` bytes (or the end) are there; raise what the feeder failed with."""
        while (size < 0 or self._buffered < size) and not self._eof:
            item = self._queue.get()
            if item is None:
                self._eof = True
            elif isinstance(item, BaseException):
                self._eof = True
                raise item
            else:
                self._chunks.append(item)
                self._buffered += len(item)
        if size < 0 or size >= self._buffered:
            taken, self._chunks, self._buffered = self._chunks, [], 0
            return b"".join(taken)
        # split only the last chunk needed, so the part is copied once
        taken = []
        missing = size
        while missing:
            chunk = self._chunks.pop(0)
            if len(chunk) > missing:
                taken.append(chunk[:missing])
                self._chunks.insert(0, chunk[missing:])
                missing = 0
            else:
                taken.append(chunk)
                missing -= len(chunk)
        self._buffered -= size
        return b"".join(taken)

    def _put_blocking(self, item: bytes | BaseException | None) -> None:
        while True:
            if self.reader_done:
                raise ReaderGoneError
            try:
                self._queue.put(item, timeout=_PUT_POLL_S)
            except queue.Full:
                continue
            return

    async def put(self, item: bytes | BaseException | None) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            await asyncio.to_thread(self._put_blocking, item)


HEAD_BYTES = 64


async def feed(
    pipe: Pipe, body: AsyncIterator[bytes], limit: int, check_head: Callable[[bytes], None]
) -> int:
    """Copy ``body`` into ``pipe`` in batches and return its size.

    ``check_head`` sees the first ``HEAD_BYTES`` (or the whole body if shorter) before anything
    is passed on, and may raise to refuse it. ``BodyTooLargeError`` is raised as soon as more than
    ``limit`` bytes arrived. Whatever is raised also reaches the pipe's reader, so the upload is
    aborted and nothing is stored.
    """
    total = 0
    batch = bytearray()
    checked = False
    try:
        async for chunk in body:
            total += len(chunk)
            if total > limit:
                raise BodyTooLargeError(limit)
            batch += chunk
            if not checked and len(batch) >= HEAD_BYTES:
                check_head(bytes(batch[:HEAD_BYTES]))
                checked = True
            if checked and len(batch) >= BATCH_BYTES:
                await pipe.put(bytes(batch))
                batch.clear()
        if not checked:
            check_head(bytes(batch))
        if batch:
            await pipe.put(bytes(batch))
        await pipe.put(None)
    except ReaderGoneError:
        raise
    except BaseException as e:
        await pipe.put(e if isinstance(e, Exception) else ConnectionAbortedError("cancelled"))
        raise
    return total
