"""``check_limits`` as the adapters' refusals were worded: a size an editor recognises."""

from __future__ import annotations

import pytest

from loa.channels import LimitError, Limits, Post, check_limits
from loa.events import MediaRef

pytestmark = pytest.mark.unit


def _post(*media: MediaRef) -> Post:
    return Post("cttdt-2025-11-26-0042", 1, "zalo", "so-tttt", "marker", media=list(media))


def _video(size: int, content_type: str = "video/mp4") -> MediaRef:
    return MediaRef(key="sha256/" + "a" * 64, sha256="a" * 64, content_type=content_type, size=size)


def test_a_media_over_its_size_names_bytes_and_megabytes() -> None:
    limits = Limits(video_max_bytes=50 * 1024 * 1024, max_videos=1)
    check_limits(_post(_video(50 * 1024 * 1024)), limits)
    with pytest.raises(LimitError) as refused:
        check_limits(_post(_video(51 * 1024 * 1024 + 100_000)), limits)
    assert str(refused.value) == "media[0]: 53577376 bytes (51.1 MB), the channel allows 52428800 (50 MB)"


def test_a_small_media_keeps_its_plain_byte_count() -> None:
    with pytest.raises(LimitError, match=r"^media\[0\]: 1001 bytes, the channel allows 1000$"):
        check_limits(_post(_video(1001)), Limits(video_max_bytes=1000, max_videos=1))
