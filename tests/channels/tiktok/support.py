"""Helpers of the TikTok tests: a creator in the emulator, its account, videos in a media store."""

from __future__ import annotations

import hashlib
import io
import random
import uuid
from typing import Any, cast

import httpx

from loa.channels import Account, Secret
from loa.events import MediaRef
from loa.media import MediaStore

ACCOUNT = "ubnd-da-nang"
OPEN_ID = "_000QnUjGmN8zZ-Đà-Nẵng"
USERNAME = "ubnddanang"
MB = 1024 * 1024


def register_creator(sandbox_url: str, **overrides: Any) -> Account:
    """A creator who authorised the app in the emulator, and the Loa account holding its tokens."""
    keys = {
        "client_key": f"aw{uuid.uuid4().hex[:14]}",
        "client_secret": f"secret-{uuid.uuid4().hex}",
        "access_token": f"act.{uuid.uuid4().hex}",
        "refresh_token": f"rft.{uuid.uuid4().hex}",
    }
    body = {"open_id": OPEN_ID, "username": USERNAME, "nickname": "UBND TP Đà Nẵng", **keys, **overrides}
    httpx.post(f"{sandbox_url}/tiktok/_creators", json=body).raise_for_status()
    return Account("tiktok", ACCOUNT, {k: Secret(v) for k, v in keys.items()})


def video_bytes(size: int) -> bytes:
    """Bytes that stand for an MP4 (the emulator checks sizes, ranges and hashes, not codecs)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + random.Random(size).randbytes(size - len(head))


def put_video(store: MediaStore, size: int, duration_s: float | None = None) -> MediaRef:
    data = video_bytes(size)
    stored = store.put_stream(io.BytesIO(data), "video/mp4", len(data))
    return MediaRef(
        key=stored.key,
        sha256=stored.sha256,
        content_type="video/mp4",
        size=stored.size,
        duration_s=duration_s,
    )


class _Stream(io.BytesIO):
    """What ``MediaStore.open`` answers: a readable response the caller closes and releases."""

    def release_conn(self) -> None:
        return None


class MemoryMedia:
    """Our own media port (``MediaStore``'s ``put_stream``/``open``) in memory, for the unit tests
    that need no MinIO; the contract suite runs on the real store."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.opened: list[tuple[int, int]] = []
        """(offset, length) of every ranged read."""

    def put(self, data: bytes, duration_s: float | None = None) -> MediaRef:
        sha = hashlib.sha256(data).hexdigest()
        self.objects[f"sha256/{sha}"] = data
        return MediaRef(
            key=f"sha256/{sha}", sha256=sha, content_type="video/mp4", size=len(data), duration_s=duration_s
        )

    def open(self, key: str, offset: int = 0, length: int = 0) -> _Stream:
        data = self.objects[key]
        self.opened.append((offset, length))
        return _Stream(data[offset : offset + length] if length else data[offset:])

    def as_store(self) -> MediaStore:
        return cast(MediaStore, self)
