"""What every platform's Connect flow shares: the request a person fills in, the start and the way
back of an OAuth authorisation-code grant, the account it produces, and the platform's refusal.

Each platform's flow lives beside its channel (``services/<channel>/connect.py``) and follows that
platform's documents; ``services.tracker.connect`` runs them all the same way (state, PKCE, the
binding cookie, the account change, the audit row).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Protocol
from urllib.parse import urlencode

import httpx
from pydantic import AfterValidator, BaseModel, Field, JsonValue, SecretStr

from loa.events.commands import Unit
from loa.events.content import AccountName
from loa.tls import client_context
from services.tracker.settings import TrackerSettings

TIMEOUT_S = 15.0


class ConnectRequest(BaseModel):
    """The account to connect; each flow adds its app's identifiers (a ``SecretStr`` is a secret)."""

    model_config = {"extra": "forbid"}

    name: AccountName
    unit: Unit | None = None


def printable_ascii(value: SecretStr) -> SecretStr:
    """App secrets travel in headers and forms: platforms issue them as ASCII letters and digits."""
    if not value.get_secret_value().isascii() or not value.get_secret_value().isprintable():
        raise ValueError("must be printable ASCII, as the platform's app secrets are")
    return value


AppSecret = Annotated[
    SecretStr, Field(min_length=1, max_length=200, description="write-only"), AfterValidator(printable_ascii)
]
"""An app's secret as a person pastes it: sent to the platform and sealed, never shown again."""


@dataclass(frozen=True)
class Start:
    """What the authorisation request carries: one-time ``state``, the PKCE S256 challenge."""

    state: str
    challenge: str
    redirect_uri: str

    def code_request(self, client_id: str, scope: str, *, pkce: bool = True, **extra: str) -> str:
        """The query of an RFC 6749 §4.1.1 authorisation request, with RFC 7636's S256 challenge
        unless the platform has no PKCE, and the platform's ``extra`` parameters."""
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": self.state,
        }
        if pkce:
            query |= {"code_challenge": self.challenge, "code_challenge_method": "S256"}
        return urlencode(query | extra)


@dataclass(frozen=True)
class Back:
    """The browser back from the platform with a code (the query's other parameters in ``params``)."""

    code: str
    verifier: str
    redirect_uri: str
    params: Mapping[str, str] = field(default_factory=dict)

    def code_grant(self, client_id: str) -> dict[str, str]:
        """The form of an RFC 6749 §4.1.3 token request with RFC 7636's ``code_verifier``."""
        return {
            "grant_type": "authorization_code",
            "code": self.code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
            "client_id": client_id,
        }


@dataclass(frozen=True)
class Connected:
    """The account the grant gives: credentials for the publisher (sealed on their way), options,
    when a person must connect it again (``None``: its tokens renew or do not expire), and who it
    is at the platform (logged; never a token)."""

    credentials: dict[str, str]
    options: dict[str, JsonValue]
    expires_at: datetime | None
    identity: str


@dataclass(frozen=True)
class Choice:
    """The grant covers several accounts (the Pages a person manages): the admin picks one of
    ``options`` (id → what the page shows), and ``pick`` makes it the account."""

    options: dict[str, str]
    pick: Callable[[str], Connected]


class ConnectError(Exception):
    """The platform refused: a one-line cause with its error name or code, never a token."""


class Flow(Protocol):
    """One platform's Connect: where to send the browser, and what its code becomes."""

    channel: ClassVar[str]
    request_model: ClassVar[type[ConnectRequest]]

    def authorize_url(self, settings: TrackerSettings, body: Any, start: Start) -> str: ...

    async def finish(self, settings: TrackerSettings, body: Any, back: Back) -> Connected | Choice: ...


def challenge_of(verifier: str) -> str:
    """PKCE S256 (RFC 7636 §4.2): BASE64URL(SHA-256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def platform_json(platform: str, method: str, url: str, **request: Any) -> tuple[int, dict[str, Any]]:
    """One call to a platform's OAuth or API endpoint: its status and JSON object. Unreachable, or
    not JSON, is a ``ConnectError`` naming the platform and the failure's kind (never the URL,
    whose query may carry a token)."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, verify=client_context()) as client:
            answer = await client.request(method, url, **request)
        data = answer.json()
    except (httpx.HTTPError, ValueError) as e:
        raise ConnectError(f"{platform} did not answer: {type(e).__name__}") from None
    if not isinstance(data, dict):
        raise ConnectError(f"{platform} answered {answer.status_code} without a JSON object")
    return answer.status_code, data


def oauth_error(platform: str, status: int, data: Mapping[str, Any]) -> ConnectError:
    """RFC 6749 §5.2's ``error`` / ``error_description`` as a one-line cause."""
    name = str(data.get("error", status))[:80]
    description = str(data.get("error_description", ""))[:200]
    return ConnectError(f"{platform} refused the code: {name}" + (f" ({description})" if description else ""))
