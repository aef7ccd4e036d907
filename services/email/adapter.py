"""The e-mail channel: a press release to every journalist of a press list, one message each.

An account is a press list (``email:<list>``): its option ``recipients`` (``recipients.py``), its
option ``contact`` (the spokesperson's contact block, lines) and the SMTP login it is sent with
(credentials ``smtp_username``/``smtp_password``; none for the local Mailpit). Each recipient gets
their own SMTP transaction (``smtp.py``), so a bounce is that recipient's; the state of each is
saved as progress after its answer, so a retry or a restarted replica sends only to those still
owed, and a message sent twice after a crash carries the same Message-ID (``message.py``).
E-mail cannot be edited: no update. A correction (``kind: correction``) goes to the list as a
reply to the original (In-Reply-To/References); ``retract`` sends a retraction the same way.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

from loa.channels import (
    Account,
    ChannelAdapter,
    Context,
    Limits,
    PermanentError,
    Post,
    PublishResult,
    TransientError,
    register,
)
from loa.events import Content, ContentKind, MediaRef, Target
from loa.events.delivery import RecipientState, recipients_report
from loa.press import CONTACT_OPTION
from loa.text import nfc, slugify
from services.email import message
from services.email.message import Envelope, InlineImage, Letter, Recipient
from services.email.recipients import press_list
from services.email.settings import EmailSettings
from services.email.smtp import FINAL, Answer, Pacer, Relay, Session

log = logging.getLogger(__name__)

CORRECTION = "Đính chính"
RETRACTION = "Thông báo rút lại thông cáo"
NOTE_MAX = 500
"""``loa.events.Delivery.note``'s limit."""


@register
class EmailAdapter(ChannelAdapter):
    name = "email"
    metrics_port = 9107  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    # RFC 5322 §2.1.1: a line is at most 998 octets; the subject is folded and RFC 2047-encoded, so the
    # content's title (500) always fits. Images travel inline up to a byte budget (settings).
    # One call sends a whole list; messages are paced per SMTP account by ``smtp.Pacer``.
    limits = Limits(title_max=500, max_images=50, requests_per_period=(10, 60.0))
    supports_update: ClassVar[bool] = False

    def __init__(self, context: Context, settings: EmailSettings | None = None) -> None:
        super().__init__(context, settings or EmailSettings())
        self.settings: EmailSettings
        s = self.settings
        self.domain = s.email_dkim_domain or message.domain_of(s.email_from)
        self.pacer = Pacer(s.email_messages_per_second)

    def target_host(self, account: Account) -> str | None:
        return f"{self.settings.email_smtp_host}:{self.settings.email_smtp_port}"

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        recipients = press_list(account)  # refuses a malformed list before any I/O
        title = nfc(target.title or content.title)
        if content.kind is ContentKind.CORRECTION and not title.casefold().startswith(CORRECTION.casefold()):
            title = f"{CORRECTION}: {title}"
        letter = {
            "subject": title,
            "summary": nfc(target.text or content.summary),
            "body_html": content.body,
            "link": self.context.canonical_url(content),
            "unit": nfc(content.unit),
            "contact": [nfc(str(line)) for line in _lines(account.options.get(CONTACT_OPTION))],
        }
        return Post(
            content.id,
            content.version,
            self.name,
            account.name,
            marker=f"loa-email-{content.id}-v{content.version}-{slugify(account.name)}",
            title=title,
            texts=[message.text_part(_letter(letter))],
            media=[m for m in content.media if m.is_image],
            payload={"letter": letter, "replies_to": content.corrects, "recipients": len(recipients)},
        )

    async def publish(self, post: Post, account: Account) -> PublishResult:
        letter = await self._with_images(_letter(post.payload["letter"]), post.media)
        replies_to = post.payload.get("replies_to")
        states = await self._send_all(post, account, letter, purpose="", replies_to=replies_to)
        if states and all(s["state"] == RecipientState.BOUNCED for s in states.values()):
            last = list(states.values())[-1]
            raise PermanentError(
                f"email {account.name}: every recipient bounced, last {last['code']}: {last['reply']}",
                code=last["code"],
            )
        return self._result(post, states)

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        """SMTP cannot be asked; the saved progress knows: done when every recipient has a final answer."""
        states = post.progress.get("recipients") or {}
        owed = [r for r in press_list(account) if _state(states, r) not in FINAL]
        return self._result(post, states) if states and not owed else None

    async def retract(self, previous: PublishResult, account: Account) -> None:
        """A retraction notice, as a reply, to every recipient the original reached."""
        extra = previous.extra
        letter = Letter(
            subject=f"{RETRACTION}: {extra['subject']}",
            summary="Thông cáo báo chí dưới đây đã được rút lại; đề nghị quý cơ quan báo chí không sử dụng.",
            body_html="",
            link=str(extra["link"]),
            unit=str(extra["unit"]),
            contact=tuple(_lines(account.options.get(CONTACT_OPTION))),
        )
        reached = {rid for rid, s in extra["recipients"].items() if s["state"] == RecipientState.SENT}
        post = Post(str(extra["content_id"]), 0, self.name, account.name, marker=previous.external_id)
        post.progress = {"recipients": dict(extra.get("retraction") or {})}
        await self._send_all(
            post, account, letter, purpose="retraction", replies_to=str(extra["content_id"]), only=reached
        )

    async def _send_all(
        self,
        post: Post,
        account: Account,
        letter: Letter,
        *,
        purpose: str,
        replies_to: str | None,
        only: set[str] | None = None,
    ) -> dict[str, Any]:
        """Send to each recipient still owed, saving each answer; ``TransientError`` if any is deferred."""
        states: dict[str, Any] = post.progress.setdefault("recipients", {})
        owed = [
            r
            for r in press_list(account)
            if _state(states, r) not in FINAL and (only is None or r.id in only)
        ]
        extra = {"channel": self.name, "account": account.name, "content_id": post.content_id}
        if owed:
            relay = self._relay(account)
            session = await asyncio.to_thread(Session(relay).__enter__)
            try:
                for recipient in owed:
                    if await self.context.retract_requested(post):
                        break
                    raw = self._message(letter, recipient, post, purpose, replies_to)
                    await asyncio.to_thread(self.pacer.wait, relay.username or relay.host)
                    answer: Answer = await asyncio.to_thread(
                        session.send, self._sender(), recipient.email, raw
                    )
                    states[recipient.id] = answer.record()
                    await self.context.save_progress(post)
                    log.info("recipient %s: %s %s", recipient.id, answer.state, answer.code, extra=extra)
            finally:
                await asyncio.to_thread(session.__exit__, None, None, None)
        deferred = [rid for rid, s in states.items() if s["state"] == RecipientState.DEFERRED]
        if deferred:
            last = states[deferred[-1]]
            raise TransientError(
                f"email {account.name}: {len(deferred)} recipient(s) deferred, last {last['code']}: "
                f"{last['reply']}",
                code=last["code"],
            )
        return states

    def _message(
        self, letter: Letter, recipient: Recipient, post: Post, purpose: str, replies_to: str | None
    ) -> bytes:
        s = self.settings
        envelope = Envelope(
            sender=message.sender_address(s.email_from),
            message_id=message.message_id(post.content_id, recipient, self.domain, purpose),
            delivery=post.marker,
            list_id=f"<{slugify(letter.unit)}.press.{self.domain}>",
            unsubscribe_url=s.email_unsubscribe_url,
            unsubscribe_mailto=s.email_unsubscribe_mailto,
            date=datetime.now(UTC),
            in_reply_to=message.message_id(replies_to, recipient, self.domain) if replies_to else None,
        )
        raw = message.build(letter, recipient, envelope).as_bytes()
        if s.email_dkim_private_key is None:
            return raw
        key = s.email_dkim_private_key.get_secret_value().encode()
        return message.sign(raw, selector=s.email_dkim_selector, domain=self.domain, private_key_pem=key)

    def _sender(self) -> str:
        return message.address_of(self.settings.email_from)

    def _relay(self, account: Account) -> Relay:
        s = self.settings
        login = "smtp_username" in account.credentials
        return Relay(
            host=s.email_smtp_host,
            port=s.email_smtp_port,
            security=s.email_smtp_security,
            timeout_s=s.email_smtp_timeout_s,
            username=account.secret("smtp_username") if login else None,
            password=account.secret("smtp_password") if login else None,
        )

    def _result(self, post: Post, states: dict[str, Any]) -> PublishResult:
        letter = post.payload["letter"]
        report = recipients_report(states)
        counts = {state.value: n for state, n in report.counts.items()}
        extra = {
            "content_id": post.content_id,
            "subject": letter["subject"],
            "link": letter["link"],
            "unit": letter["unit"],
            "counts": counts,
            "recipients": states,
        }
        return PublishResult(post.marker, None, extra, note=summary(counts, states), recipients=report)

    def _read(self, key: str) -> bytes:
        return b"".join(self.context.media.iter_bytes(key))

    async def _with_images(self, letter: Letter, media: list[MediaRef]) -> Letter:
        """The letter with each image inline while the total stays within the budget."""
        budget = self.settings.email_inline_image_budget_bytes
        images: list[InlineImage] = []
        for ref in media:
            if ref.size > budget:
                continue
            budget -= ref.size
            data = await asyncio.to_thread(self._read, ref.key)
            images.append(InlineImage(f"{ref.sha256[:32]}@{self.domain}", data, ref.content_type, ref.alt))
        left_out = len(media) - len(images)
        note = (f"{left_out} ảnh khác: xem trên trang thông tin điện tử.",) if left_out else ()
        return Letter(**{**letter.__dict__, "images": tuple(images), "notes": note})


def summary(counts: dict[str, int], states: dict[str, Any]) -> str:
    """The delivery's note: ``50 người nhận: 49 đã gửi, 1 bị trả lại (550 a1b2c3d4e5f60718)``."""
    labels = {
        "sent": "đã gửi",
        "deferred": "đang chờ gửi lại",
        "bounced": "bị trả lại",
        "complained": "khiếu nại",
    }
    parts = [f"{n} {labels[state]}" for state, n in counts.items() if n]
    bounced = [f"{s['code']} {rid}" for rid, s in states.items() if s["state"] == RecipientState.BOUNCED]
    line = f"{sum(counts.values())} người nhận: " + ", ".join(parts)
    if bounced:
        line += " (" + ", ".join(bounced) + ")"
    return line if len(line) <= NOTE_MAX else line[: NOTE_MAX - 1] + "…"


def _letter(data: dict[str, Any]) -> Letter:
    return Letter(
        subject=data["subject"],
        summary=data["summary"],
        body_html=data["body_html"],
        link=data["link"],
        unit=data["unit"],
        contact=tuple(data["contact"]),
    )


def _lines(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _state(states: dict[str, Any], recipient: Recipient) -> RecipientState | None:
    found = states.get(recipient.id)
    return RecipientState(found["state"]) if found else None
