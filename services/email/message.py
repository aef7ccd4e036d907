"""One press release e-mail: MIME structure, headers, DKIM. Pure: no I/O.

``multipart/alternative`` of ``text/plain`` and ``text/html`` rendered from the same content (the
HTML inside ``multipart/related`` when images go inline by ``cid:``), headers encoded for SMTP with
``email.policy.SMTP`` (CRLF; a Vietnamese subject becomes RFC 2047 ``=?utf-8?...?=``), RFC 8058
one-click unsubscribe, and a DKIM-Signature (RFC 6376, dkimpy) over the final bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr
from html.parser import HTMLParser
from urllib.parse import urlencode

from jinja2 import Environment, select_autoescape

from loa.press import recipient_id
from loa.text import nfc

SIGNED_HEADERS = (
    b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
    b"list-id", b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version", b"content-type",
)  # fmt: skip
"""RFC 8058 §3.1: the List-Unsubscribe headers must be covered by the DKIM signature."""

_HTML = Environment(autoescape=select_autoescape(default=True), keep_trailing_newline=True).from_string(
    """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: Arial, sans-serif; max-width: 640px">
<h1 style="font-size: 20px">{{ subject }}</h1>
{% if summary %}<p><strong>{{ summary }}</strong></p>{% endif %}
{{ body | safe }}
{% for image in images %}<p><img src="cid:{{ image.cid }}" alt="{{ image.alt }}" style="max-width: 100%"></p>
{% endfor %}{% for note in notes %}<p>{{ note }}</p>
{% endfor %}<p>Xem trên trang thông tin điện tử: <a href="{{ link }}">{{ link }}</a></p>
<hr><p>{{ unit }}{% for line in contact %}<br>{{ line }}{% endfor %}</p>
</body></html>
"""
)
"""The HTML part: the body is the content's already sanitised HTML (``loa.html.sanitize_body`` at
the edge); every other field is text, escaped here."""

BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "li", "blockquote", "pre", "figcaption", "tr", "div"})


@dataclass(frozen=True)
class Recipient:
    name: str
    outlet: str
    email: str

    @property
    def id(self) -> str:
        """A stable id that names the recipient in delivery records without the address."""
        return recipient_id(self.email)


@dataclass(frozen=True)
class InlineImage:
    cid: str
    data: bytes
    content_type: str
    alt: str = ""


@dataclass(frozen=True)
class Letter:
    """What every recipient of one content gets (the recipient's own lines are added per message)."""

    subject: str
    summary: str
    body_html: str
    link: str
    unit: str
    contact: tuple[str, ...] = ()
    images: tuple[InlineImage, ...] = ()
    notes: tuple[str, ...] = ()
    """Lines under the body (e.g. how many images stayed on the website)."""


@dataclass(frozen=True)
class Envelope:
    """The per-recipient headers."""

    sender: str
    message_id: str
    list_id: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    date: datetime
    in_reply_to: str | None = None
    delivery: str | None = None
    """Loa's key of the delivery (``X-Loa-Delivery``): finds a message in the relay's logs."""


def message_id(content_id: str, recipient: Recipient, domain: str, purpose: str = "") -> str:
    """``<loa.<content>[.<purpose>].<recipient id>@domain>``: the same for every attempt, so a retry
    after a crash sends the same message again (receivers drop a repeated Message-ID), never a
    second one. The channel sends one message per content and recipient (no edits: an e-mail
    cannot change once sent), so the content id alone is what a follow-up refers to."""
    middle = f"{content_id}.{purpose}" if purpose else content_id
    return f"<loa.{middle}.{recipient.id}@{domain}>"


def domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2]


def plain_text(html: str) -> str:
    """The text of sanitised HTML, one paragraph a block, links kept as ``text (url)``."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser.flush()
    return "\n\n".join(parser.blocks)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.text: list[str] = []
        self.href: str | None = None

    def flush(self) -> None:
        text = " ".join("".join(self.text).split())
        if text:
            self.blocks.append(text)
        self.text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS or tag == "br":
            self.flush()
        if tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href:
            self.text.append(f" ({self.href})")
            self.href = None
        if tag in BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def text_part(letter: Letter) -> str:
    lines = [letter.subject, ""]
    if letter.summary:
        lines += [letter.summary, ""]
    if letter.body_html:
        lines += [plain_text(letter.body_html), ""]
    lines += [*letter.notes, f"Xem trên trang thông tin điện tử: {letter.link}", "", "--", letter.unit]
    return nfc("\n".join([*lines, *letter.contact]) + "\n")


def html_part(letter: Letter) -> str:
    return nfc(
        _HTML.render(
            subject=letter.subject,
            summary=letter.summary,
            body=letter.body_html,
            images=letter.images,
            notes=letter.notes,
            link=letter.link,
            unit=letter.unit,
            contact=letter.contact,
        )
    )


def build(letter: Letter, recipient: Recipient, envelope: Envelope) -> EmailMessage:
    """The message for one recipient (unsigned)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = envelope.sender
    msg["To"] = Address(display_name=nfc(recipient.name), addr_spec=recipient.email)
    msg["Subject"] = nfc(letter.subject)
    msg["Date"] = format_datetime(envelope.date)
    msg["Message-ID"] = envelope.message_id
    if envelope.in_reply_to:
        msg["In-Reply-To"] = envelope.in_reply_to
        msg["References"] = envelope.in_reply_to
    msg["List-Id"] = envelope.list_id
    query = urlencode({"list": envelope.list_id.strip("<>"), "r": recipient.id})
    msg["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}?{query}>, <mailto:{envelope.unsubscribe_mailto}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if envelope.delivery:
        msg["X-Loa-Delivery"] = envelope.delivery
    msg.set_content(text_part(letter), charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_part(letter), subtype="html", charset="utf-8", cte="quoted-printable")
    if letter.images:
        html = msg.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage)
        for image in letter.images:
            maintype, _, subtype = image.content_type.partition("/")
            html.add_related(image.data, maintype, subtype, cid=f"<{image.cid}>", disposition="inline")
    return msg


def sign(raw: bytes, *, selector: str, domain: str, private_key_pem: bytes) -> bytes:
    """The message with its DKIM-Signature header on top (relaxed/relaxed, rsa-sha256).

    dkimpy (and dnspython, which it loads: 4 MB resident) only here, where a message is signed: the
    ingest renders e-mails for previews and never signs one (``tests/unit/test_service_imports.py``)."""
    import dkim

    header: bytes = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        private_key_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(SIGNED_HEADERS),
    )
    return header + raw


def address_of(display: str) -> str:
    """The bare address of ``Name <address>`` (the SMTP envelope's sender)."""
    return parseaddr(display)[1]


def sender_address(display: str) -> str:
    name, address = parseaddr(display)
    return formataddr((nfc(name), address)) if name else address
