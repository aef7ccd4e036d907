"""An OpenID Connect provider's ID tokens, verified against its own keys: the tracker checks the one
it receives at sign-in, the ingest the one the tracker forwards for a person's decision.

OpenID Connect Core 1.0 §3.1.3.7 (issuer, audience, signature with the provider's keys, expiry,
nonce, ``at_hash``, ``azp``) and Discovery 1.0 §4.3 (the metadata's issuer must be the one
configured). Authlib's ``CodeIDToken`` checks the claims; joserfc verifies the signature.
"""

from __future__ import annotations

from typing import Any

import httpx
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from loa.tls import client_context

LEEWAY_SECONDS = 60
"""Clock skew tolerated on the ID token's times (exp, iat)."""


class IdTokenError(Exception):
    """An ID token (or the provider's metadata) Loa must not trust; the message is for the logs."""


class IdTokenVerifier:
    """One provider's ID tokens for one client (``audience``): its metadata and keys fetched once."""

    def __init__(self, issuer: str, audience: str, http: httpx.AsyncClient | None = None) -> None:
        self.issuer = issuer
        self.audience = audience
        self.http = http or httpx.AsyncClient(timeout=10.0, follow_redirects=False, verify=client_context())
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched once; its issuer must be the configured one."""
        if self._metadata is None:
            response = await self.http.get(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            response.raise_for_status()
            found: dict[str, Any] = response.json()
            # pydantic writes a bare host with a trailing slash; the provider's spelling is the one
            # its tokens carry, so it is kept once it matches
            if str(found.get("issuer", "")).rstrip("/") != self.issuer.rstrip("/"):
                raise IdTokenError(f"the provider's metadata names issuer {found.get('issuer')!r}")
            self._metadata = found
        return self._metadata

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            response = await self.http.get((await self.metadata())["jwks_uri"])
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    async def verify(
        self, id_token: str, nonce: str | None = None, access_token: str | None = None
    ) -> dict[str, Any]:
        """The claims of a valid ID token of this provider for this audience, or ``IdTokenError``.

        ``nonce`` is checked when given (at sign-in); a forwarded token has no nonce to compare."""
        meta = await self.metadata()
        algorithms = [a for a in meta.get("id_token_signing_alg_values_supported", ["RS256"]) if a != "none"]
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(), algorithms=algorithms)
            except JoseError:
                # the provider may have rotated its keys since they were fetched: once more, fresh
                token = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=algorithms)
            params: dict[str, Any] = {"client_id": self.audience, "access_token": access_token}
            if nonce is not None:
                params["nonce"] = nonce
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": meta["issuer"]},
                    "aud": {"essential": True, "value": self.audience},
                },
                params,
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError) as e:
            raise IdTokenError(f"ID token refused: {type(e).__name__}: {e}") from e
        return dict(claims)
