"""One SMTP session per delivery, one transaction per recipient, each answer mapped to a state.

RFC 5321 §4.2.1: a 4yz reply is a transient failure (try again later: ``deferred``), a 5yz reply a
permanent one (``bounced``: never retried). A refusal of the login (535, RFC 4954 §6) needs a
person; a connection that fails or drops is transient for every recipient not yet answered.
smtplib (stdlib) in a thread: the session is a short run of blocking commands.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from ipaddress import ip_address

from loa.channels import AuthError, TransientError
from loa.channels.in_doubt import raised_within, transport_error
from loa.events.delivery import RecipientState
from loa.mode import PRODUCTION, Mode
from loa.text import without_addresses

FINAL = frozenset({RecipientState.SENT, RecipientState.BOUNCED, RecipientState.COMPLAINED})
DATA_FRAMES = frozenset({"data"})
"""``smtplib.SMTP.data``: a connection lost there, waiting for the reply to the message's final dot,
may have delivered it. RFC 5321 §4.5.3.2.6 ("DATA Termination: 10 minutes"): a timeout there
"would typically result in delivery of multiple copies of the message"."""


@dataclass(frozen=True)
class Answer:
    state: RecipientState
    code: int
    reply: str

    def record(self) -> dict[str, str | int]:
        return {"state": self.state.value, "code": self.code, "reply": self.reply}


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    security: str
    timeout_s: float
    username: str | None
    password: str | None


class Pacer:
    """At most ``rate`` messages a second per SMTP account, across every delivery of this process."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.lock = threading.Lock()
        self.next_at: dict[str, float] = {}

    def wait(self, account: str) -> None:
        """Block until this account may send its next message (called in a worker thread)."""
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at.get(account, now))
            self.next_at[account] = at + self.interval
        if at > now:
            time.sleep(at - now)


def is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_plain_smtp(host: str, security: str, mode: Mode) -> str | None:
    """Why this relay may not be used in this mode: production never sends plain SMTP off this machine."""
    if mode == PRODUCTION and security == "none" and not is_local(host):
        return (
            f"email_smtp_security: plain SMTP to {host} is refused in production "
            "(credentials and press releases would cross the network in clear); use starttls or tls"
        )
    return None


def _answer(code: int, reply: bytes | str) -> Answer:
    text = without_addresses(reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)[:300]
    state = RecipientState.DEFERRED if 400 <= code < 500 else RecipientState.BOUNCED
    return Answer(state, code, text)


class Session:
    """An open, authenticated session (``with Session(relay) as s: s.send(...)``)."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Session:
        relay = self.relay
        where = f"SMTP {relay.host}:{relay.port}"
        context = ssl.create_default_context()
        try:
            if relay.security == "tls":
                self.smtp = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout_s, context=context)
            else:
                self.smtp = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout_s)
            self.smtp.ehlo()
            if relay.security == "starttls":
                self.smtp.starttls(context=context)
                self.smtp.ehlo()
            if relay.username:
                self.smtp.login(relay.username, relay.password or "")
        except smtplib.SMTPAuthenticationError as e:
            self.close()
            raise AuthError(f"{where}: login refused ({e.smtp_code})", code=e.smtp_code) from e
        except UnicodeEncodeError as e:  # smtplib encodes AUTH PLAIN/LOGIN as ASCII
            self.close()
            raise AuthError(f"{where}: the SMTP login must be ASCII (smtplib)") from e
        except smtplib.SMTPResponseException as e:
            self.close()
            error = TransientError if 400 <= e.smtp_code < 500 else AuthError
            raise error(f"{where}: {e.smtp_code} at session start", code=e.smtp_code) from e
        except (OSError, smtplib.SMTPException) as e:
            self.close()
            raise TransientError(f"{where}: {type(e).__name__}") from e
        return self

    def __exit__(self, *_: object) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.close()

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()

    def send(self, sender: str, recipient: str, raw: bytes) -> Answer:
        """One transaction (MAIL, RCPT, DATA) for one recipient; its answer, never an exception for a
        refusal that concerns this recipient alone. A lost connection raises ``TransientError``."""
        assert self.smtp is not None
        try:
            self.smtp.sendmail(sender, [recipient], raw)
        except smtplib.SMTPRecipientsRefused as e:
            code, reply = e.recipients[recipient]
            return _answer(code, reply)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            self._reset()
            return _answer(e.smtp_code, e.smtp_error)
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            # Lost during DATA, the relay may have taken the message: in doubt (README, "In doubt").
            message = f"SMTP {self.relay.host}: {type(e).__name__} during a send"
            raise transport_error(message, e, creates=raised_within(e, DATA_FRAMES)) from e
        return Answer(RecipientState.SENT, 250, "")

    def _reset(self) -> None:
        assert self.smtp is not None
        with contextlib.suppress(smtplib.SMTPException):
            self.smtp.rset()
