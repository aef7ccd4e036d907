"""Per-recipient delivery against a real SMTP conversation: bounced, deferred then retried, auth refused."""

from __future__ import annotations

import email
from email.policy import default
from typing import Any

import pytest

from loa.channels import Account, AuthError, Post, Secret, TransientError
from loa.testing import FakeContext
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings
from tests.channels.email.mail import DOMAIN, contacts, press_account, press_release
from tests.channels.email.smtp_server import smtp_server

pytestmark = pytest.mark.unit  # the SMTP server runs in-process


def adapter(port: int) -> EmailAdapter:
    settings = EmailSettings(
        mode="development",
        email_smtp_port=port,
        email_from=f"Văn phòng Bộ <thongcao@{DOMAIN}>",
        email_messages_per_second=1000,
    )
    return EmailAdapter(FakeContext(), settings)


async def ready(
    port: int, people: list[dict[str, Any]], content_id: str
) -> tuple[EmailAdapter, Account, Post]:
    """An adapter on the server at ``port``, the list of ``people``, and a press release rendered for it."""
    a, account = adapter(port), press_account(people)
    content = press_release(content_id)
    return a, account, await a.render(content, content.targets[0], account)


async def test_a_5xx_bounces_that_recipient_alone_and_is_not_retried() -> None:
    people = contacts(5, "bounce")
    refused = people[2]["email"]
    async with smtp_server(refuse={refused: "550 5.1.1 mailbox unavailable"}) as server:
        a, account, post = await ready(server.port, people, "cttdt-2025-12-01-0001")
        result = await a.publish(post, account)
    assert result.extra["counts"] == {"sent": 4, "deferred": 0, "bounced": 1, "complained": 0}
    assert sorted(r.recipient for r in server.received) == sorted(
        p["email"] for p in people if p["email"] != refused
    )
    bounced = [s for s in result.extra["recipients"].values() if s["state"] == "bounced"]
    assert bounced == [{"state": "bounced", "code": 550, "reply": "5.1.1 mailbox unavailable"}]
    rid = next(r for r, s in result.extra["recipients"].items() if s["state"] == "bounced")
    assert result.note == f"5 người nhận: 4 đã gửi, 1 bị trả lại (550 {rid})"  # shown with the delivery
    assert await a.find_existing(post, account) is not None  # every answer is final: nothing owed


async def test_a_4xx_defers_and_the_retry_sends_only_to_those_still_owed() -> None:
    people = contacts(4, "defer")
    busy = people[1]["email"]
    async with smtp_server(refuse={busy: "451 4.7.1 greylisted, try again later"}) as server:
        a, account, post = await ready(server.port, people, "cttdt-2025-12-01-0002")
        with pytest.raises(TransientError, match="1 recipient"):
            await a.publish(post, account)
        assert a.context.saved  # type: ignore[attr-defined]  # each answer saved as it came
        assert await a.find_existing(post, account) is None  # one still owed: publish again
        assert len(server.received) == 3
        server.refuse.clear()
        result = await a.publish(post, account)
    assert [r.recipient for r in server.received[3:]] == [busy]  # the retry sent to no one twice
    assert result.extra["counts"]["sent"] == 4


async def test_a_refused_login_is_an_auth_error_without_the_password() -> None:
    password = "smtp-pass-2025-dung"  # smtplib sends ASCII credentials only
    async with smtp_server(password=password) as server:
        a = adapter(server.port)
        account = Account(
            "email",
            "bao-chi",
            {"smtp_username": Secret("thongcao"), "smtp_password": Secret("smtp-pass-cu-da-doi")},
            {"recipients": contacts(2, "auth")},
        )
        content = press_release("cttdt-2025-12-01-0003", account="bao-chi")
        post = await a.render(content, content.targets[0], account)
        with pytest.raises(AuthError) as refused:
            await a.publish(post, account)
        assert "smtp-pass" not in f"{refused.value} {refused.value!r}"
        good = Account(
            "email", "bao-chi", {**account.credentials, "smtp_password": Secret(password)}, account.options
        )
        assert (await a.publish(post, good)).extra["counts"]["sent"] == 2


async def test_retract_sends_a_retraction_in_reply_to_each_recipient_reached() -> None:
    people = contacts(3, "retract")
    async with smtp_server(refuse={people[0]["email"]: "550 5.1.1 no such user"}) as server:
        a, account, post = await ready(server.port, people, "cttdt-2025-12-01-0004")
        result = await a.publish(post, account)
        await a.retract(result, account)
    originals = {r.recipient: email.message_from_bytes(r.data, policy=default) for r in server.received[:2]}
    retractions = [email.message_from_bytes(r.data, policy=default) for r in server.received[2:]]
    assert len(retractions) == 2  # the bounced address gets no retraction
    for notice, recipient in zip(retractions, [r.recipient for r in server.received[2:]], strict=True):
        assert notice["In-Reply-To"] == originals[recipient]["Message-ID"]
        assert str(notice["Subject"]).startswith("Thông báo rút lại thông cáo")
