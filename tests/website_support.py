"""Helpers for the website tests: a fake runtime context (our own port) and Vietnamese articles."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from loa.channels import Account, Post, Secret
from loa.channels.credentials import UnsharedCredentials
from loa.events import Content, MediaRef
from loa.links import canonical_url
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.website.site.bucket import SiteBucket
from services.website.views import PageViews

BODY = (
    "<p>Sáng 26/11, tại Hà Nội, Bộ Thông tin và Truyền thông tổ chức Hội nghị tổng kết công tác "
    "chuyển đổi số năm 2026 và triển khai nhiệm vụ năm 2027. Đồng chí Bộ trưởng chủ trì hội nghị; "
    "dự hội nghị có đại diện lãnh đạo các bộ, ngành, địa phương và doanh nghiệp công nghệ số.</p>"
    "<h2>Kết quả nổi bật</h2>"
    "<p>Năm 2026, tỷ lệ hồ sơ thủ tục hành chính được xử lý trực tuyến toàn trình đạt 68%, tăng 21 "
    "điểm phần trăm so với năm trước. Hạ tầng mạng 5G đã phủ sóng tới 97% dân số, trong đó các tỉnh "
    "miền núi phía Bắc như Điện Biên, Lai Châu, Hà Giang được ưu tiên đầu tư.</p>"
    "<ul><li>Đưa 1.200 dịch vụ công lên Cổng Dịch vụ công quốc gia;</li>"
    "<li>Đào tạo kỹ năng số cho 3,5 triệu người dân;</li>"
    "<li>Hỗ trợ 45.000 doanh nghiệp nhỏ và vừa chuyển đổi số.</li></ul>"
    "<blockquote>“Chuyển đổi số phải lấy người dân làm trung tâm, "
    "đo bằng sự hài lòng của người dân.”</blockquote>"
    '<p>Xem chi tiết tại <a href="https://example.gov.vn/bao-cao">báo cáo tổng kết</a>.</p>'
)


@dataclass
class FakeContext(UnsharedCredentials):
    """The runtime's ``Context`` port, faked: real media store, canonical URLs, recorded progress."""

    media: MediaStore
    base_url: str = "http://127.0.0.1:8082"
    progress: list[dict[str, Any]] = field(default_factory=list)

    def canonical_url(self, content: Content) -> str:
        return canonical_url(content, self.base_url)

    async def save_progress(self, post: Post) -> None:
        self.progress.append(dict(post.progress))

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        return Account(
            account.channel, account.name, {k: Secret(v) for k, v in credentials.items()}, account.options
        )

    async def retract_requested(self, post: Post) -> bool:
        return False


def png_bytes(width: int = 1200, height: int = 675, colour: tuple[int, int, int] = (168, 21, 27)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 40):  # a few stripes, so it is not a flat colour
        for y in range(height):
            image.putpixel((x, y), (245, 196, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def store_image(media: MediaStore, alt: str, caption: str = "", data: bytes | None = None) -> MediaRef:
    data = data or png_bytes()
    stored = media.put_stream(io.BytesIO(data), "image/png", len(data))
    return MediaRef(
        key=stored.key,
        sha256=stored.sha256,
        content_type="image/png",
        size=stored.size,
        width=1200,
        height=675,
        alt=alt,
        caption=caption,
    )


def article(
    content_id: str,
    *,
    title: str = "Đẩy mạnh chuyển đổi số: Hội nghị tổng kết năm 2026 của Bộ Thông tin và Truyền thông",
    version: int = 1,
    media: list[MediaRef] | None = None,
    tags: list[str] | None = None,
    unit: str = "Vụ Hợp tác quốc tế",
    approved_at: datetime | None = None,
    body: str = BODY,
    account: str = "main",
    **extra: Any,
) -> Content:
    return Content.model_validate(
        {
            "id": content_id,
            "version": version,
            "title": title,
            "summary": "Năm 2026, 68% hồ sơ thủ tục hành chính được xử lý trực tuyến toàn trình; "
            "5G phủ sóng 97% dân số. Đây là kết quả nổi bật của công tác chuyển đổi số.",
            "body": body,
            "tags": tags if tags is not None else ["Chuyển đổi số", "Dịch vụ công"],
            "unit": unit,
            "approved_by": "Trần Thị Bích Đào",
            "approved_at": approved_at or datetime(2026, 11, 26, 7, 30, tzinfo=UTC),
            "media": [m.model_dump() for m in media or []],
            "targets": [{"channel": "website", "account": account}],
            **extra,
        }
    )


def static_account(name: str = "main") -> Account:
    return Account("website", name, {}, {"mode": "static"})


def make_media(settings: LoaSettings) -> MediaStore:
    media = MediaStore(settings)
    media.ensure_buckets()
    return media


class RunningServer:
    """An ASGI app (default: the website server over ``bucket``) on an ephemeral port in a thread."""

    def __init__(self, bucket: Any = None, app: Any = None) -> None:
        import socket
        import threading

        import uvicorn

        from services.website.server import build_app

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app or build_app(bucket), host="127.0.0.1", port=self.port, log_config=None, access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("website server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


KEY = "2026/12/so-tttt-da-nang-cong-bo-lich-tiep-cong-dan-thang-12-6yart001.html"
ARTICLE_PAGE = unicodedata.normalize(
    "NFC",
    "<!doctype html><meta charset=utf-8><title>Sở TT&TT Đà Nẵng công bố lịch tiếp công dân</title>"
    "<h1>Lịch tiếp công dân tháng 12/2026</h1>",
).encode()
BROWSER = {
    "User-Agent": "Mozilla/5.0 (Linux; Android 13; SM-A536E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Zalo android/12100640 ZaloLanguage/vi"
}


def published(media: MediaStore) -> None:
    """An article page in the website bucket, at ``KEY``."""
    SiteBucket(media.client, media.website_bucket).put(KEY, ARTICLE_PAGE, "text/html; charset=utf-8")


async def counting_site(settings: LoaSettings, tmp_path: Path) -> tuple[MediaStore, str, dict[str, str]]:
    """The article published at ``KEY``, a fresh token table under ``tmp_path`` and its tokens
    (``views_tokens``): what a page-view test serves and reads with."""
    media = make_media(settings)
    published(media)
    access = f"sqlite+aiosqlite:///{tmp_path / 'access.db'}"
    return media, access, await views_tokens(access)


async def views_tokens(access_url: str) -> dict[str, str]:
    """Tokens for ``GET /_api/v1/views`` in a fresh token table: the listener's (viewer on every
    unit, as ``loa tokens issue listener --grant viewer:*`` makes it) and an editor's of one unit."""
    from loa.access.principal import ALL_UNITS, Grant, Role
    from loa.access.tokens import TokenStore

    store = TokenStore.at(access_url)
    await store.migrate()
    try:
        _, listener = await store.issue("listener", frozenset({Grant(Role.VIEWER, ALL_UNITS)}), "quản-trị")
        _, editor = await store.issue(
            "bien-tap-da-nang", frozenset({Grant(Role.EDITOR, "so-tttt-da-nang")}), "quản-trị"
        )
    finally:
        await store.close()
    return {"listener": listener, "editor": editor}


def counting_server(
    media: MediaStore, access_url: str, flush_s: float = 3600.0
) -> tuple[RunningServer, PageViews]:
    """The website server over ``media``'s website bucket, counting views into its private bucket."""
    from loa.access.bearer import BearerTokens
    from loa.access.policy import Policy
    from loa.access.tokens import TokenStore
    from loa.access.units import UnitTree
    from services.website.server import build_app
    from services.website.views_api import Counting

    views = PageViews(SiteBucket(media.client, media.bucket))
    counting = Counting(
        views, BearerTokens((), TokenStore.at(access_url)).find, Policy(UnitTree({})), flush_s
    )
    return RunningServer(
        app=build_app(SiteBucket(media.client, media.website_bucket), counting=counting)
    ), views
