"""A connection lost while the relay answers the message's final dot: in doubt, for that recipient.

SMTP cannot be asked whether it took a message, so ``find_existing`` answers from the saved
per-recipient states; the recipient in doubt is still owed and the retry sends to it (and to those
after it) again, with the same Message-ID (services/email/README.md, "In doubt").
"""

from __future__ import annotations

import email
from email.policy import default

import pytest

from loa.channels import TransientError
from loa.testing import FakeContext
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings
from tests.channels.email.mail import DOMAIN, contacts, press_account, press_release
from tests.channels.email.smtp_server import smtp_server

pytestmark = pytest.mark.unit  # the SMTP server runs in-process
TIMEOUT_S = 0.5


def adapter(port: int) -> EmailAdapter:
    settings = EmailSettings(
        mode="development",
        email_smtp_port=port,
        email_smtp_timeout_s=TIMEOUT_S,
        email_from=f"Văn phòng Bộ <thongcao@{DOMAIN}>",
        email_messages_per_second=1000,
    )
    return EmailAdapter(FakeContext(), settings)


def message_id(data: bytes) -> str:
    return str(email.message_from_bytes(data, policy=default)["Message-ID"])


async def test_a_timeout_after_the_final_dot_is_in_doubt_and_the_retry_sends_the_same_message() -> None:
    people = contacts(3, "in-doubt")
    late = people[1]["email"]
    async with smtp_server(late_queued={late: TIMEOUT_S * 3}) as server:
        a, account = adapter(server.port), press_account(people)
        content = press_release("cttdt-2025-12-02-0007")
        post = await a.render(content, content.targets[0], account)
        with pytest.raises(TransientError) as raised:
            await a.publish(post, account)
        assert raised.value.in_doubt, "the relay may have taken the message: in doubt"
        assert [r.recipient for r in server.received] == [people[0]["email"], late]  # it did take it
        assert await a.find_existing(post, account) is None  # two still owed: publish again
        server.late_queued.clear()
        result = await a.publish(post, account)
    assert [r.recipient for r in server.received[2:]] == [late, people[2]["email"]]  # the first not again
    first, again = (r.data for r in server.received if r.recipient == late)
    assert message_id(first) == message_id(again), "the same message, so a receiver can drop the repeat"
    assert result.extra["counts"]["sent"] == 3


async def test_a_relay_that_never_greets_is_not_in_doubt() -> None:
    """Timed out before any message was sent: a plain transient error."""
    people = contacts(2, "stall")
    async with smtp_server(stall_s=TIMEOUT_S * 3) as server:
        a, account = adapter(server.port), press_account(people)
        content = press_release("cttdt-2025-12-02-0008")
        post = await a.render(content, content.targets[0], account)
        with pytest.raises(TransientError) as raised:
            await a.publish(post, account)
    assert not raised.value.in_doubt
    assert server.received == []
