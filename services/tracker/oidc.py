"""Personal sign-in with OpenID Connect: the authorization code flow with PKCE, ``state`` and ``nonce``.

Sources followed: OpenID Connect Core 1.0 §3.1 (code flow; §3.1.3.7 ID token validation: issuer,
audience, signature with the provider's keys, expiry, nonce), OpenID Connect Discovery 1.0 §4.3 (the
issuer of the metadata must be the one configured), RFC 7636 (PKCE, S256), RFC 9700 §2.1 (PKCE and
one-time ``state`` for confidential clients too) and OpenID Connect RP-Initiated Logout 1.0.
Authlib gives the PKCE challenge; the ID token is verified by ``loa.access.id_tokens`` (the same
checks the ingest makes of a token the approvals page forwards), with the nonce of this sign-in.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from loa.access.id_tokens import IdTokenError, IdTokenVerifier
from loa.access.people import NotAPersonError, person_of
from loa.access.principal import Principal
from services.tracker.settings import TrackerSettings

log = logging.getLogger(__name__)
PENDING_SECONDS = 600.0
"""How long a browser may take at the provider between leaving and coming back."""
MAX_PENDING = 10_000
"""Sign-ins under way kept at most; the oldest go first (each is a few hundred bytes)."""


class SignInError(Exception):
    """A sign-in that must not open a session; ``reason`` is shown (translated), ``detail`` logged."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Pending:
    nonce: str
    code_verifier: str
    redirect_uri: str
    next: str
    started: float


class OidcClient:
    """The tracker as a confidential OpenID Connect client of one provider."""

    def __init__(self, settings: TrackerSettings, http: httpx.AsyncClient | None = None) -> None:
        assert settings.oidc_issuer is not None
        self._settings = settings
        self._issuer = str(settings.oidc_issuer)
        self._verifier = IdTokenVerifier(self._issuer, settings.oidc_client_id, http)
        self._http = self._verifier.http
        self._pending: OrderedDict[str, Pending] = OrderedDict()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched once; its issuer must be the configured one."""
        try:
            return await self._verifier.metadata()
        except IdTokenError as e:
            raise SignInError("oidc_unavailable", str(e)) from e

    async def begin(self, redirect_uri: str, next: str) -> tuple[str, str]:
        """A new sign-in: its ``state`` (to bind to the browser) and the provider's URL to send it to."""
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        self._forget_stale()
        self._pending[state] = Pending(nonce, verifier, redirect_uri, next, time.monotonic())
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)
        url = add_params_to_uri(
            meta["authorization_endpoint"],
            {
                "response_type": "code",
                "client_id": self._settings.oidc_client_id,
                "redirect_uri": redirect_uri,
                "scope": self._settings.oidc_scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            },
        )
        return state, url

    def forget(self, state: str) -> None:
        """Drop a sign-in that the provider ended without a code."""
        self._pending.pop(state, None)

    def _forget_stale(self) -> None:
        cutoff = time.monotonic() - PENDING_SECONDS
        while self._pending and next(iter(self._pending.values())).started < cutoff:
            self._pending.popitem(last=False)

    async def finish(self, state: str, code: str) -> tuple[Principal, str, str]:
        """The person of a provider's answer, where they were going and their verified ID token (the
        ingest checks it again for the person's decisions); the state is used up."""
        self._forget_stale()
        pending = self._pending.pop(state, None)
        if pending is None:
            raise SignInError("oidc_failed", "unknown, used or expired state")
        tokens = await self._exchange(code, pending)
        claims = await self._verified_claims(tokens, pending.nonce)
        try:
            return person_of(claims, self._settings.oidc_groups_claim), pending.next, tokens["id_token"]
        except NotAPersonError as e:
            raise SignInError("oidc_no_role", f"{claims.get('sub')!r}: {e}") from e

    async def _exchange(self, code: str, pending: Pending) -> dict[str, Any]:
        """The code for tokens at the token endpoint, with the PKCE verifier (client_secret_basic)."""
        meta = await self.metadata()
        secret = self._settings.oidc_client_secret.get_secret_value()
        # RFC 6749 §2.3.1: id and secret are form-encoded before they go into HTTP Basic
        auth = (quote(self._settings.oidc_client_id, safe=""), quote(secret, safe=""))
        response = await self._http.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.code_verifier,
            },
            auth=auth,
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            error = (
                response.json().get("error", "") if "json" in response.headers.get("content-type", "") else ""
            )
            raise SignInError(
                "oidc_failed", f"token endpoint answered {response.status_code} {error}".strip()
            )
        tokens: dict[str, Any] = response.json()
        if not isinstance(tokens.get("id_token"), str):
            raise SignInError("oidc_failed", "the token response has no ID token")
        return tokens

    async def _verified_claims(self, tokens: dict[str, Any], nonce: str) -> dict[str, Any]:
        try:
            return await self._verifier.verify(tokens["id_token"], nonce, tokens.get("access_token"))
        except IdTokenError as e:
            raise SignInError("oidc_failed", str(e)) from e

    async def end_session_url(self) -> str | None:
        """Where to sign out at the provider too (RP-Initiated Logout), if it offers that."""
        meta = await self.metadata()
        endpoint = meta.get("end_session_endpoint")
        if not endpoint:
            return None
        return str(add_params_to_uri(endpoint, {"client_id": self._settings.oidc_client_id}))
