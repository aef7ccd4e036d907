"""Helpers for the YouTube adapter's tests and bench: the sandbox over TLS, a recording context."""

from __future__ import annotations

import copy
import io
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from PIL import Image

from loa.channels import Account, Post, Secret
from loa.channels.credentials import UnsharedCredentials
from loa.events import Content, MediaRef, Target
from loa.links import canonical_url
from loa.media import MediaStore
from services.sandbox.tls import TlsFiles, write_tls_files

WEBSITE = "https://bo-thong-tin.gov.vn"


@dataclass
class TlsSandbox:
    url: str
    tls: TlsFiles


@contextmanager
def sandbox_over_tls(directory: Path) -> Iterator[TlsSandbox]:
    """The whole sandbox app served with TLS on an ephemeral port, in this process (shared state)."""
    from services.sandbox.app import build_app

    tls = write_tls_files(directory)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(),
        ssl_certfile=str(tls.cert_pem),
        ssl_keyfile=str(tls.key_pem),
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.02)
    try:
        yield TlsSandbox(f"https://127.0.0.1:{port}", tls)
    finally:
        server.should_exit = True
        server.force_exit = True  # clients keep connections alive; do not wait for them
        thread.join(timeout=10)
        sock.close()


class Crash(BaseException):
    """Stands for the process dying (not an error the adapter could handle)."""


@dataclass
class RecordingContext(UnsharedCredentials):
    """The runtime's Context for tests: real MinIO, progress kept as the job store would keep it."""

    store: MediaStore
    saved: list[dict[str, Any]] = field(default_factory=list)
    credentials: dict[str, Mapping[str, str]] = field(default_factory=dict)
    crash_after_saves: int | None = None
    retracted: bool = False

    @property
    def media(self) -> MediaStore:
        return self.store

    def canonical_url(self, content: Content) -> str:
        return canonical_url(content, WEBSITE)

    async def save_progress(self, post: Post) -> None:
        self.saved.append(copy.deepcopy(post.progress))
        if self.crash_after_saves is not None and len(self.saved) >= self.crash_after_saves:
            raise Crash(f"crash after {len(self.saved)} saved steps")

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        self.credentials[account.name] = dict(credentials)
        return account

    async def retract_requested(self, post: Post) -> bool:
        return self.retracted


def account(refresh_token: str = "1//refresh-kenh-bo", **options: Any) -> Account:
    return Account(
        channel="youtube",
        name="kenh-bo",
        credentials={
            "client_id": Secret("loa-client.apps.googleusercontent.com"),
            "client_secret": Secret("GOCSPX-bi-mat-khong-in-ra"),
            "refresh_token": Secret(refresh_token),
        },
        options=options,
    )


def put_video(store: MediaStore, size: int, seed: int = 7) -> MediaRef:
    """A pseudo-random 'video' of ``size`` bytes streamed into the store (never whole in memory)."""

    class Pattern(io.RawIOBase):
        def __init__(self) -> None:
            self.left = size
            self.block = bytes((i * seed + i // 251) % 256 for i in range(1 << 16))
            self.turn = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            n = self.left if n < 0 else min(n, self.left)
            out = bytearray()
            while len(out) < n:
                self.turn += 1
                out += self.block[self.turn % 7 :][: n - len(out)]
            self.left -= n
            return bytes(out)

    stored = store.put_stream(Pattern(), "video/mp4", size)  # type: ignore[arg-type]
    return MediaRef(key=stored.key, sha256=stored.sha256, content_type="video/mp4", size=stored.size)


def put_image(store: MediaStore) -> MediaRef:
    out = io.BytesIO()
    Image.new("RGB", (640, 360), (200, 30, 40)).save(out, format="PNG")
    out.seek(0)
    stored = store.put_stream(out, "image/png", out.getbuffer().nbytes)
    return MediaRef(
        key=stored.key, sha256=stored.sha256, content_type="image/png", size=stored.size, alt="Ảnh"
    )


def content(media: list[MediaRef], publish_at: datetime | None = None, **overrides: Any) -> Content:
    fields: dict[str, Any] = {
        "id": "hop-bao-2026-11-26",
        "version": 1,
        "title": "Họp báo Chính phủ thường kỳ tháng 11: Đẩy mạnh chuyển đổi số quốc gia",
        "summary": (
            "Chiều 26/11, Bộ Thông tin và Truyền thông tổ chức họp báo thường kỳ. Người phát ngôn "
            "trả lời câu hỏi của phóng viên về tiến độ chuyển đổi số, an toàn thông tin mạng và "
            "việc cấp phép báo chí điện tử. Đồng chí Đặng Văn Đức chủ trì buổi họp."
        ),
        "tags": ["họp báo", "chuyển đổi số", "Đà Nẵng", "an toàn thông tin"],
        "unit": "Vụ Thông tin cơ sở",
        "approved_by": "Nguyễn Thị Hương",
        "approved_at": datetime(2026, 11, 26, 1, 0, tzinfo=UTC),
        "media": media,
        "targets": [Target(channel="youtube", account="kenh-bo")],
        "publish_at": publish_at,
    }
    fields.update(overrides)
    return Content(**fields)
