"""A Vietnamese press release to a 50-recipient list, through the local stack's real SMTP server
(Mailpit, deploy/local/mailpit.sh), read back through Mailpit's API: every message arrives once, with
a DKIM signature dkimpy verifies, both MIME parts and the list headers; a correction follows up."""

from __future__ import annotations

import email
import os
import uuid
from email.message import EmailMessage
from email.policy import default
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from loa.events import ContentKind
from loa.testing import FakeContext
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings
from tests.channels.email.mail import (
    DOMAIN,
    SELECTOR,
    contacts,
    key_pair,
    press_account,
    press_release,
    verify,
)

pytestmark = pytest.mark.integration

API = f"http://127.0.0.1:{os.environ.get('LOA_MAILPIT_PORT', '8025')}/api/v1"
SMTP_PORT = int(os.environ.get("LOA_MAILPIT_SMTP_PORT", "1025"))
PRIVATE, TXT = key_pair()


def arrived(tag: str) -> list[tuple[dict[str, Any], bytes]]:
    """(summary, raw) of every message Mailpit holds for the addresses that carry ``tag``."""
    with httpx.Client(base_url=API, timeout=10) as client:
        found = client.get("/search", params={"query": f"to:{tag}", "limit": 1000})
        found.raise_for_status()
        return [(m, client.get(f"/message/{m['ID']}/raw").content) for m in found.json()["messages"]]


@pytest.fixture
def adapter() -> EmailAdapter:
    settings = EmailSettings(
        mode="development",
        email_smtp_port=SMTP_PORT,
        email_from=f"Văn phòng Bộ <thongcao@{DOMAIN}>",
        email_dkim_selector=SELECTOR,
        email_dkim_private_key=SecretStr(PRIVATE.decode()),
        email_messages_per_second=1000,
    )
    return EmailAdapter(FakeContext(), settings)


async def test_a_press_release_reaches_fifty_journalists_signed_then_a_correction_follows(
    adapter: EmailAdapter,
) -> None:
    tag = uuid.uuid4().hex[:10]
    people = contacts(50, tag)
    account = press_account(people)
    content = press_release(f"cttdt-{tag}")
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    assert result.extra["counts"]["sent"] == 50

    messages = arrived(tag)
    assert sorted(m["To"][0]["Address"] for m, _ in messages) == sorted(p["email"] for p in people)
    originals: dict[str, EmailMessage] = {}
    for summary, raw in messages:
        assert verify(raw, TXT), f"DKIM of the message to {summary['To'][0]['Address']}"
        msg = email.message_from_bytes(raw, policy=default)
        assert isinstance(msg, EmailMessage)
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert str(msg["Subject"]) == content.title
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        originals[summary["To"][0]["Address"]] = msg
    assert len({m["Message-ID"] for m in originals.values()}) == 50

    # a retry of the same delivery sends nothing more: every recipient has its answer
    assert await adapter.find_existing(post, account) is not None
    await adapter.publish(post, account)
    assert len(arrived(tag)) == 50

    correction = press_release(
        f"cttdt-{tag}-dc",
        kind=ContentKind.CORRECTION,
        corrects=content.id,
        title="Số liệu dịch vụ công đúng là 4.600",
    )
    fix = await adapter.render(correction, correction.targets[0], account)
    assert (await adapter.publish(fix, account)).extra["counts"]["sent"] == 50
    follow_ups = [
        email.message_from_bytes(raw, policy=default)
        for _, raw in arrived(tag)
        if b"In-Reply-To" in raw.split(b"\r\n\r\n", 1)[0]
    ]
    assert len(follow_ups) == 50
    for msg in follow_ups:
        to = msg["To"].addresses[0].addr_spec
        assert msg["In-Reply-To"] == msg["References"] == originals[to]["Message-ID"]
        assert str(msg["Subject"]) == "Đính chính: Số liệu dịch vụ công đúng là 4.600"
