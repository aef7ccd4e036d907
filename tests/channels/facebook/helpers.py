"""Vietnamese sample content, small media and planned platform faults for the Facebook tests."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from loa.channels import Account, Post
from loa.channels.credentials import UnsharedCredentials
from loa.events import Content, MediaRef
from loa.links import canonical_url
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.facebook import error_body
from services.sandbox.frame import Fault, sandbox


def jpeg(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, ((seed * 40) % 256, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


SUMMARY = (
    "Sáng 26/11, Bộ Thông tin và Truyền thông tổ chức hội nghị triển khai Chiến lược chuyển đổi số quốc gia "
    "đến năm 2030. Đồng chí Thứ trưởng nhấn mạnh: “Đưa dịch vụ công trực tuyến đến từng người dân, "
    "đặc biệt ở vùng sâu, vùng xa, là nhiệm vụ trọng tâm.”"
)


def make_content(
    *, account: Account, media: list[MediaRef] | None = None, publish_at: datetime | None = None, **over: Any
) -> Content:
    fields: dict[str, Any] = {
        "id": f"art-{uuid.uuid4().hex[:12]}",
        "version": 1,
        "title": "Đẩy mạnh chuyển đổi số ở Đắk Lắk và Điện Biên",
        "summary": SUMMARY,
        "body": "<p>Nội dung chi tiết.</p>",
        "tags": ["Chuyển đổi số", "Dịch vụ công", "Đắk Lắk", "2030"],
        "unit": "Văn phòng Bộ",
        "approved_by": "Nguyễn Thị Hoà",
        "approved_at": datetime.now(UTC),
        "media": media or [],
        "targets": [{"channel": "facebook", "account": account.name}],
        "publish_at": publish_at,
    } | over
    return Content.model_validate(fields)


class FakeContext(UnsharedCredentials):
    """Our own port, faked: real MinIO media, the website's canonical URLs, progress kept in memory."""

    def __init__(self, settings: LoaSettings) -> None:
        self._media = MediaStore(settings)
        self.settings = settings
        self.saved: list[dict[str, Any]] = []

    @property
    def media(self) -> MediaStore:
        return self._media

    def canonical_url(self, content: Content) -> str:
        return canonical_url(content, str(self.settings.website_base_url))

    async def save_progress(self, post: Post) -> None:
        self.saved.append(json.loads(json.dumps(post.progress)))  # persisted as JSON, like the job store

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        return account

    async def retract_requested(self, post: Post) -> bool:
        return False


def fail_the_next_read() -> None:
    """The next ``GET`` to the Graph API fails once, as Facebook's "Service temporarily
    unavailable" (code 2, a 503): e.g. the read of a post's link after the post was made."""
    body = error_body(2, "Service temporarily unavailable", type_="FacebookApiException")
    sandbox.plan(Fault("facebook", status=503, body=body, method="GET"))
