"""The press release e-mail, without a server: MIME parts, headers, DKIM, Vietnamese text."""

from __future__ import annotations

import email
import unicodedata
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from pydantic import SecretStr

from loa.channels import PermanentError
from loa.events import ContentKind
from loa.testing import FakeContext
from services.email.adapter import EmailAdapter
from services.email.adapter import _letter as letter_of
from services.email.message import Recipient, message_id
from services.email.settings import EmailSettings
from services.email.smtp import refuse_plain_smtp
from tests.channels.email.mail import (
    CONTACT,
    DOMAIN,
    SELECTOR,
    contacts,
    key_pair,
    press_account,
    press_release,
    verify,
)

pytestmark = pytest.mark.unit

PRIVATE, TXT = key_pair()


def adapter(**settings: Any) -> EmailAdapter:
    base: dict[str, Any] = {
        "mode": "development",
        "email_from": f"Văn phòng Bộ <thongcao@{DOMAIN}>",
        "email_dkim_selector": SELECTOR,
        "email_dkim_private_key": SecretStr(PRIVATE.decode()),
    }
    return EmailAdapter(FakeContext(), EmailSettings(**{**base, **settings}))


async def rendered(a: EmailAdapter, **changes: Any) -> tuple[bytes, Recipient]:
    account = press_account(contacts(2, "unit"))
    content = press_release("cttdt-2025-11-26-0042", **changes)
    post = await a.render(content, content.targets[0], account)
    letter = await a._with_images(letter_of(post.payload["letter"]), [])
    recipient = Recipient("Nguyễn Văn Đạt 0", "Báo Nhân Dân", "phong-vien-0-unit@bao.example.vn")
    return a._message(letter, recipient, post, "", post.payload["replies_to"]), recipient


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


async def test_the_message_has_a_plain_and_an_html_part_of_the_same_content() -> None:
    raw, _ = await rendered(adapter())
    msg = parsed(raw)
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = (part.get_content() for part in msg.iter_parts())
    for text in (plain, html):
        assert unicodedata.is_normalized("NFC", text)
        assert "Đồng chí Đặng Văn Đức" in text
        assert "http://127.0.0.1:8082/" in text  # the website article
        assert "Vụ Thông tin cơ sở" in text and CONTACT[0] in text  # unit and spokesperson
    assert "<p>" not in plain and "Cổng Dịch vụ công quốc gia (https://dichvucong.gov.vn)" in plain
    # the summary is text: escaped in the HTML part, never markup
    assert "&lt;tăng&gt;" in html and "<tăng>" not in html


async def test_the_vietnamese_subject_is_rfc_2047_encoded_and_decodes_to_nfc() -> None:
    raw, _ = await rendered(adapter())
    header = next(line for line in raw.split(b"\r\n") if line.startswith(b"Subject:"))
    assert header.isascii() and b"=?utf-8?" in header
    subject = str(make_header(decode_header(parsed(raw)["Subject"])))
    assert subject == "Thông cáo báo chí: Kết quả chuyển đổi số quốc gia năm 2025 – Đắk Lắk dẫn đầu"
    assert unicodedata.is_normalized("NFC", subject)


async def test_dkim_signature_verifies_with_the_public_key_and_breaks_on_any_change() -> None:
    raw, _ = await rendered(adapter())
    assert raw.startswith(b"DKIM-Signature:")
    assert verify(raw, TXT)
    assert not verify(raw.replace(b"phatngon@loa", b"gia-mao@loa"), TXT)  # the body (quoted-printable)
    assert not verify(raw.replace(b"List-Unsubscribe-Post: ", b"List-Unsubscribe-Post:  x"), TXT)
    signed = raw.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n", "")
    assert "list-unsubscribe:list-unsubscribe-post" in signed.replace(" ", "")  # RFC 8058 §3.1


async def test_one_click_unsubscribe_and_a_message_id_stable_per_content_and_recipient() -> None:
    a = adapter()
    first, recipient = await rendered(a)
    again, _ = await rendered(a)
    msg = parsed(first)
    assert (
        msg["Message-ID"]
        == parsed(again)["Message-ID"]
        == message_id("cttdt-2025-11-26-0042", recipient, DOMAIN)
    )
    other = Recipient("B", "C", "khac@bao.example.vn")
    assert message_id("cttdt-2025-11-26-0042", other, DOMAIN) != msg["Message-ID"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].startswith("<https://") and recipient.id in msg["List-Unsubscribe"]
    assert recipient.email not in msg["List-Unsubscribe"]  # the address is never in a URL


async def test_a_correction_replies_to_the_original_message() -> None:
    raw, recipient = await rendered(
        adapter(), id="cttdt-2025-11-27-0001", kind=ContentKind.CORRECTION, corrects="cttdt-2025-11-26-0042"
    )
    msg = parsed(raw)
    original = message_id("cttdt-2025-11-26-0042", recipient, DOMAIN)
    assert msg["In-Reply-To"] == msg["References"] == original
    assert str(msg["Subject"]).startswith("Đính chính: Thông cáo báo chí")


async def test_a_malformed_press_list_names_the_field() -> None:
    bad = contacts(2, "bad")
    bad[1]["email"] = "không-phải-địa-chỉ"
    content = press_release("cttdt-2025-11-26-0042")
    with pytest.raises(PermanentError, match=r"recipients\.1\.email"):
        await adapter().render(content, content.targets[0], press_account(bad))
    del bad[1]["consent_date"]
    with pytest.raises(PermanentError, match=r"recipients\.1\.(email|consent_date)"):
        await adapter().render(content, content.targets[0], press_account(bad))


def test_production_refuses_plain_smtp_to_another_host() -> None:
    assert "email_smtp_security" in (refuse_plain_smtp("smtp.example.vn", "none", "production") or "")
    assert refuse_plain_smtp("smtp.example.vn", "none", "development") is None
    assert refuse_plain_smtp("127.0.0.1", "none", "production") is None
    assert refuse_plain_smtp("smtp.example.vn", "starttls", "production") is None
    with pytest.raises(ValueError, match=r"plain SMTP to smtp\.example\.vn"):
        EmailSettings(
            mode="production",
            website_base_url="https://baochinhphu.example.vn",
            email_smtp_host="smtp.example.vn",
        )
