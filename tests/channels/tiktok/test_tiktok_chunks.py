"""The chunk plan against TikTok's Media Transfer Guide (developers.tiktok.com/doc/
content-posting-api-media-transfer-guide, "Chunk restrictions" and its worked example), and against
the emulator's own reading of the same rules (written separately, from the guide)."""

from __future__ import annotations

import pytest

from services.sandbox.tiktok import chunk_rules
from services.tiktok.chunks import CHUNK_MAX, CHUNK_MIN, MAX_CHUNKS, VIDEO_MAX_BYTES, plan_chunks

pytestmark = pytest.mark.unit
MB = 1024 * 1024


def test_the_guides_example_50000123_bytes_in_chunks_of_10000000() -> None:
    plan = plan_chunks(50_000_123, 10_000_000)
    assert (plan.chunk_size, plan.total_chunk_count) == (10_000_000, 5)  # 50,000,123 / 10^7, rounded down
    assert [plan.span(i) for i in range(5)] == [
        (0, 10_000_000),
        (10_000_000, 10_000_000),
        (20_000_000, 10_000_000),
        (30_000_000, 10_000_000),
        (40_000_000, 10_000_123),  # the trailing 123 bytes ride with the last chunk
    ]
    assert plan.content_range(0) == "bytes 0-9999999/50000123"
    assert plan.content_range(4) == "bytes 40000000-50000122/50000123"


def test_a_video_under_5_mb_goes_whole() -> None:
    plan = plan_chunks(4 * MB, 10_000_000)
    assert (plan.chunk_size, plan.total_chunk_count) == (4 * MB, 1)
    assert plan.content_range(0) == f"bytes 0-{4 * MB - 1}/{4 * MB}"
    assert plan.source_info() == {
        "source": "FILE_UPLOAD",
        "video_size": 4 * MB,
        "chunk_size": 4 * MB,
        "total_chunk_count": 1,
    }


def test_a_chunk_size_outside_5_to_64_mb_is_brought_inside() -> None:
    assert plan_chunks(200 * MB, 1 * MB).chunk_size == CHUNK_MIN
    assert plan_chunks(700 * MB, 500 * MB).chunk_size == CHUNK_MAX
    assert plan_chunks(200 * MB, 500 * MB).total_chunk_count >= 2  # over 64 MB: several chunks


def test_never_more_than_1000_chunks() -> None:
    plan = plan_chunks(VIDEO_MAX_BYTES, CHUNK_MIN)
    assert plan.total_chunk_count <= MAX_CHUNKS
    first, length = plan.span(plan.total_chunk_count - 1)
    assert first + length == VIDEO_MAX_BYTES


@pytest.mark.parametrize("size", [0, VIDEO_MAX_BYTES + 1])
def test_sizes_tiktok_cannot_take_are_refused_naming_the_video(size: int) -> None:
    with pytest.raises(ValueError, match=r"^video: "):
        plan_chunks(size, 10_000_000)


@pytest.mark.parametrize(
    "size",
    [
        1,
        4_999_999,
        5_000_000,
        CHUNK_MIN - 1,
        CHUNK_MIN,
        CHUNK_MIN + 1,
        10_000_000,
        50_000_123,
        64_000_000,
        64 * MB,
        64 * MB + 1,
        127 * MB,
        129 * MB,
        1024 * MB + 7,
        3 * 1024 * MB,
        VIDEO_MAX_BYTES,
    ],
)
@pytest.mark.parametrize("preferred", [CHUNK_MIN, 10_000_000, CHUNK_MAX])
def test_every_plan_keeps_the_rules_as_the_emulator_reads_them(size: int, preferred: int) -> None:
    plan = plan_chunks(size, preferred)
    assert chunk_rules(plan.video_size, plan.chunk_size, plan.total_chunk_count) is None
    spans = [plan.span(i) for i in range(plan.total_chunk_count)]
    assert sum(length for _, length in spans) == size
    assert all(first == i * plan.chunk_size for i, (first, _) in enumerate(spans))
    assert spans[-1][1] <= 128 * 1_000_000  # the final chunk, in the stricter reading of MB


def test_the_emulator_refuses_what_the_guide_forbids() -> None:
    assert chunk_rules(6 * MB, 1 * MB, 6) is not None  # chunks under 5 MB
    assert chunk_rules(50_000_123, 10_000_000, 6) is not None  # count not rounded down
    assert chunk_rules(100 * MB, 100 * MB, 1) is not None  # over 64 MB in one chunk
    assert chunk_rules(4 * MB, 2 * MB, 2) is not None  # under 5 MB must go whole
