"""What every emulated OAuth consent shares: authorisation codes (RFC 6749 §4.1.2: short-lived,
single-use, bound to the client and the ``redirect_uri``), PKCE S256 (RFC 7636 §4.6:
``BASE64URL(SHA-256(code_verifier))`` without padding) and the redirect back to the client.

The emulators grant at once (there is no person to sign in); ``POST /_sandbox/oauth/deny`` makes a
platform's next consent answer as when the person clicks "Cancel" (each platform's own error
parameters, built by its module).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from services.sandbox.frame import sandbox

CODE_TTL = timedelta(minutes=10)
router = APIRouter(prefix="/_sandbox/oauth", tags=["sandbox control"])


def s256(verifier: str) -> str:
    """The PKCE challenge of ``verifier`` (RFC 7636 §4.2, ``S256``)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Grant:
    """A code waiting for its exchange: for which client, where it was sent, for whom."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    subject: str
    """What the consent granted, as the platform's exchange needs it (a user id, an access type)."""
    expires_at: datetime


@dataclass
class Codes:
    """One platform's codes under way."""

    pending: dict[str, Grant] = field(default_factory=dict)
    deny_next: bool = False

    def issue(
        self, client_id: str, redirect_uri: str, code_challenge: str, subject: str, ttl: timedelta = CODE_TTL
    ) -> str:
        code = secrets.token_urlsafe(24)
        self.pending[code] = Grant(client_id, redirect_uri, code_challenge, subject, sandbox.now() + ttl)
        return code

    def redeem(
        self, code: str, client_id: str, *, verifier: str | None, redirect_uri: str | None
    ) -> Grant | str:
        """The grant, or why not: a code opens once, in time, for its client, its ``redirect_uri``
        (unless the platform does not send it: ``None``) and the verifier of its challenge (unless
        the platform has no PKCE: ``None``)."""
        grant = self.pending.pop(code, None)
        if grant is None or grant.client_id != client_id or grant.expires_at <= sandbox.now():
            return "code"
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:
            return "redirect_uri"
        if verifier is not None and s256(verifier) != grant.code_challenge:
            return "code_verifier"
        return grant

    def denied(self) -> bool:
        """Whether this consent is refused (once, after ``/_sandbox/oauth/deny``)."""
        refused, self.deny_next = self.deny_next, False
        return refused


_platforms: dict[str, Codes] = {}


def codes(platform: str) -> Codes:
    return _platforms.setdefault(platform, Codes())


def back_to(redirect_uri: str, **params: str) -> RedirectResponse:
    """The browser's way back to the client (302), the parameters added to its query."""
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", status_code=302)


class DenyIn(BaseModel):
    platform: str


@router.post("/deny")
def deny(body: DenyIn) -> dict[str, str]:
    """Sandbox control: the platform's next consent is refused by the person."""
    codes(body.platform).deny_next = True
    return {"denied": body.platform}


sandbox.on_reset(_platforms.clear)
