"""How a video is cut into the chunks TikTok accepts, and each chunk's ``Content-Range``.

Source: developers.tiktok.com/doc/content-posting-api-media-transfer-guide ("Chunk restrictions"):
- ``total_chunk_count`` is ``video_size`` divided by ``chunk_size``, rounded down;
- each chunk is at least 5 MB and at most 64 MB, except the final one, which takes the trailing
  bytes and may reach 128 MB;
- a video under 5 MB goes whole (``chunk_size`` = its size); one over 64 MB goes in several chunks;
- at least 1 and at most 1000 chunks, sent in order.
The guide does not say whether its MB is 10^6 or 2^20 bytes: Loa sends what both readings accept
(chunks of at least 5 MiB, at most 64,000,000 bytes). Its own example: 50,000,123 bytes in chunks of
10,000,000 are 5 chunks, the last one 10,000,123 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

CHUNK_MIN = 5 * 1024 * 1024
"""A chunk of at least 5 MB, whichever MB is meant."""
CHUNK_MAX = 64_000_000
"""A chunk of at most 64 MB, whichever MB is meant."""
MAX_CHUNKS = 1000
VIDEO_MAX_BYTES = 4 * 1024**3
"""Videos up to 4 GB (developers.tiktok.com/doc/content-posting-api-media-transfer-guide, "Video
restrictions")."""


@dataclass(frozen=True)
class ChunkPlan:
    """``source_info`` of the init request, and the byte ranges of the PUTs that follow it."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    def span(self, index: int) -> tuple[int, int]:
        """(first byte, length) of chunk ``index``: the last one takes the trailing bytes."""
        if not 0 <= index < self.total_chunk_count:
            raise IndexError(f"chunk {index} of {self.total_chunk_count}")
        first = index * self.chunk_size
        last = self.video_size if index == self.total_chunk_count - 1 else first + self.chunk_size
        return first, last - first

    def content_range(self, index: int) -> str:
        """``bytes {FIRST_BYTE}-{LAST_BYTE}/{TOTAL_BYTE_LENGTH}`` (inclusive, as HTTP ranges are)."""
        first, length = self.span(index)
        return f"bytes {first}-{first + length - 1}/{self.video_size}"

    def source_info(self) -> dict[str, object]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def plan_chunks(video_size: int, preferred: int) -> ChunkPlan:
    """The chunks of a ``video_size``-byte video, each ``preferred`` bytes where the rules allow.

    Raises ``ValueError`` naming the size when no plan fits (empty, or over 4 GB)."""
    if video_size <= 0:
        raise ValueError(f"video: {video_size} bytes, TikTok needs a video of at least one byte")
    if video_size > VIDEO_MAX_BYTES:
        raise ValueError(f"video: {video_size} bytes, TikTok accepts at most {VIDEO_MAX_BYTES} (4 GB)")
    chunk = min(max(preferred, CHUNK_MIN), CHUNK_MAX)
    if video_size <= chunk:  # one chunk: the whole video (under 5 MB it must be)
        return ChunkPlan(video_size, video_size, 1)
    chunk = max(chunk, -(-video_size // MAX_CHUNKS))  # never more than 1000 chunks
    if video_size // chunk < 2 and video_size > CHUNK_MAX:  # over 64 MB: never one chunk
        chunk = video_size // 2
    return ChunkPlan(video_size, chunk, video_size // chunk)
