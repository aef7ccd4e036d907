"""The e-mail adapter on the shared contract suite, against a real SMTP conversation.

What the contract calls "the platform" is the relay: a post is there when its messages were
accepted, and gone when a retraction notice followed them. SMTP gives no reset time with a 421, so
the rate-limit case is skipped (the deferred case is in test_email_recipients.py)."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
import pytest_asyncio

from loa.channels import Account, ChannelAdapter, Context, Secret
from loa.testing.adapter_contract import AdapterContract
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings
from tests.channels.email.mail import CONTACT, DOMAIN, contacts
from tests.channels.email.smtp_server import SmtpServer, smtp_server

pytestmark = pytest.mark.unit  # the SMTP server runs in-process

PASSWORD = "smtp-pass-2025-hop-le"


class TestEmailAdapter(AdapterContract):
    @pytest_asyncio.fixture(autouse=True)
    async def _relay(self) -> AsyncIterator[None]:
        async with smtp_server(password=PASSWORD) as server:
            self.server: SmtpServer = server
            yield

    def make_adapter(self, context: Context) -> ChannelAdapter:
        settings = EmailSettings(
            mode="development",
            email_smtp_port=self.server.port,
            email_smtp_timeout_s=0.5,
            email_from=f"Văn phòng Bộ <thongcao@{DOMAIN}>",
            email_messages_per_second=1000,
        )
        return EmailAdapter(context, settings)

    def make_account(self) -> Account:
        credentials = {"smtp_username": Secret("thongcao-bo"), "smtp_password": Secret(PASSWORD)}
        options = {"recipients": contacts(3, "contract"), "contact": CONTACT}
        return Account("email", "bao-chi-trung-uong", credentials, options)

    async def platform_posts(self) -> list[dict[str, Any]]:
        messages = [email.message_from_bytes(r.data, policy=default) for r in self.server.received]
        retracted = {m["X-Loa-Delivery"] for m in messages if m["In-Reply-To"]}
        live: dict[str, EmailMessage] = {}
        for msg in messages:
            assert isinstance(msg, EmailMessage)
            if not msg["In-Reply-To"] and msg["X-Loa-Delivery"] not in retracted:
                live.setdefault(str(msg["X-Loa-Delivery"]), msg)
        return [
            {"id": key, "text": f"{msg['Subject']}\n{msg.get_body(('plain',)).get_content()}"}  # type: ignore[union-attr]
            for key, msg in live.items()
        ]

    async def inject_fault(self, kind: str) -> None:
        if kind == "server_error":
            self.server.greeting = "421 4.3.2 service not available, closing channel"
        elif kind == "rate_limit":
            pytest.skip("SMTP's 421/451 carry no reset time; deferral is tested in test_email_recipients.py")
        elif kind == "expired_token":
            self.server.password = "smtp-pass-da-doi-sau-khi-xoay"
        elif kind == "invalid":
            self.server.mail_answer = "554 5.7.1 message refused by policy"
        elif kind == "timeout":
            self.server.stall_s = 1.5

    async def inject_late_answer(self) -> None:
        pytest.skip(
            "SMTP cannot be asked: find_existing answers from the saved per-recipient states and the "
            "recipient in doubt is sent again with the same Message-ID (test_email_in_doubt.py)"
        )

    async def test_retract_takes_the_post_down_or_is_unsupported(self, adapter: ChannelAdapter) -> None:
        """E-mail cannot be unsent: a retraction notice follows each message the original reached."""
        _, result = await self.published(adapter)
        await adapter.retract(result, self.make_account())
        assert await self.platform_posts() == []
        notices = [r for r in self.server.received if b"In-Reply-To" in r.data.split(b"\r\n\r\n")[0]]
        assert len(notices) == 3
