"""Test helpers of the e-mail channel: a DKIM key pair, a press list, a content, dkimpy's verify."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from loa.channels import Account
from loa.events import Content, ContentKind, Target

SELECTOR = "loa2025"
DOMAIN = "loa.example.vn"
CONTACT = [
    "Người phát ngôn: Đặng Thị Thu Hà, Chánh Văn phòng Bộ",
    "Điện thoại: 024 3943 0000 · Thư điện tử: phatngon@loa.example.vn",
]
BODY = (
    "<p>Sáng 26/11, tại Hà Nội, Bộ tổ chức họp báo công bố kết quả chuyển đổi số quốc gia năm 2025. "
    "Đồng chí Đặng Văn Đức cho biết đã có hơn 4.500 dịch vụ công trực tuyến toàn trình.</p>"
    '<p>Chi tiết: <a href="https://dichvucong.gov.vn">Cổng Dịch vụ công quốc gia</a>.</p>'
)


def key_pair() -> tuple[bytes, bytes]:
    """(PEM private key, the DNS TXT record ``v=DKIM1; k=rsa; p=...`` of its public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def verify(raw: bytes, txt: bytes) -> bool:
    """dkimpy's verify, its DNS lookup answered with our public key for ``SELECTOR._domainkey.DOMAIN``."""

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode(), name
        return txt

    return bool(dkim.verify(raw, dnsfunc=dns))


def contacts(n: int, tag: str) -> list[dict[str, Any]]:
    outlets = ["Báo Nhân Dân", "Báo Tuổi Trẻ", "Đài Tiếng nói Việt Nam", "Báo Điện tử Đảng Cộng sản"]
    return [
        {
            "name": f"Nguyễn Văn Đạt {i}",
            "outlet": outlets[i % len(outlets)],
            "email": f"phong-vien-{i}-{tag}@bao.example.vn",
            "unit": "Vụ Thông tin cơ sở",
            "consent_date": date(2025, 10, 1).isoformat(),
        }
        for i in range(n)
    ]


def press_account(recipients: list[dict[str, Any]], name: str = "bao-chi-trung-uong") -> Account:
    return Account("email", name, {}, {"recipients": recipients, "contact": CONTACT})


def press_release(content_id: str, account: str = "bao-chi-trung-uong", **changes: Any) -> Content:
    content = Content(
        id=content_id,
        version=1,
        title="Thông cáo báo chí: Kết quả chuyển đổi số quốc gia năm 2025 – Đắk Lắk dẫn đầu",
        summary="Hơn 4.500 dịch vụ công trực tuyến toàn trình; Điện Biên & Bà Rịa – Vũng Tàu <tăng> mạnh.",
        body=BODY,
        unit="Vụ Thông tin cơ sở",
        kind=ContentKind.PRESS_RELEASE,
        approved_by="Nguyễn Thị Hương",
        approved_at=datetime(2025, 11, 26, 8, 30, tzinfo=UTC),
        targets=[Target(channel="email", account=account)],
    )
    return content.model_copy(update=changes)
