"""``MinioStream``: the seekable, read-ahead view of a MinIO object the upload streams from."""

from __future__ import annotations

import hashlib

import pytest

from loa.media import MediaStore
from services.youtube.stream import MinioStream
from tests.channels.youtube.support import put_video

pytestmark = pytest.mark.integration
PART = 256 * 1024


def test_sequential_reads_are_served_by_the_read_ahead_and_seeks_stay_exact(store: MediaStore) -> None:
    video = put_video(store, 5 * PART + 1234, seed=13)
    stream = MinioStream(store, video.key, video.size)
    try:
        parts = []
        while part := stream.read(PART):
            parts.append(part)
        assert [len(p) for p in parts] == [PART] * 5 + [1234]
        assert hashlib.sha256(b"".join(parts)).hexdigest() == video.sha256
        assert stream.ahead_hits == 5  # every read after the first was already under way
        assert stream.reopens == 1  # one GET for the whole sequential pass

        stream.seek(2 * PART)  # the server confirmed less than was sent: go back
        assert stream.read(PART) == parts[2]
        stream.seek(PART)
        assert stream.read(100) == parts[1][:100]  # a read of another size than the one ahead
        assert stream.read(PART) == (parts[1] + parts[2])[100 : 100 + PART]
    finally:
        stream.close()


def test_without_read_ahead_the_bytes_are_the_same(store: MediaStore) -> None:
    video = put_video(store, 3 * PART, seed=17)
    with MinioStream(store, video.key, video.size, read_ahead=False) as stream:
        data = b"".join(iter(lambda: stream.read(PART), b""))
        assert stream.ahead_hits == 0
    assert hashlib.sha256(data).hexdigest() == video.sha256
