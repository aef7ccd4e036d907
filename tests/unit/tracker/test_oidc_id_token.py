"""The ID token checks of OpenID Connect Core §3.1.3.7, each against a token that breaks one rule.

The provider here is a stand-in served through httpx's MockTransport (discovery, JWKS, token
endpoint) so that each test can sign the token it needs; the real provider is exercised by
tests/e2e/test_tracker_oidc_sign_in.py.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from services.tracker.oidc import OidcClient, SignInError
from services.tracker.settings import TrackerSettings

pytestmark = pytest.mark.unit
ISSUER = "https://sso.example.gov.vn/realms/bo"
CLIENT = "loa-tracker"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"}, private=True)
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"}, private=True)


class Provider:
    """Answers discovery, JWKS and the token endpoint; ``claims`` go into the next ID token."""

    def __init__(self) -> None:
        self.claims: dict[str, Any] = {}
        self.key = KEY
        self.issuer = ISSUER
        self.token_requests: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{ISSUER}/auth",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        if path.endswith("/jwks"):
            return httpx.Response(200, json={"keys": [KEY.as_dict(private=False)]})
        if path.endswith("/token"):
            self.token_requests.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
            token = jwt.encode({"alg": "RS256", "kid": "k1"}, self.claims, self.key)
            return httpx.Response(200, json={"id_token": token, "token_type": "Bearer"})
        return httpx.Response(404)


def _good_claims(nonce: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": "c2a1-77",
        "aud": CLIENT,
        "exp": now + 300,
        "iat": now,
        "nonce": nonce,
        "email": "bientap.soyte@loa.example",
        "email_verified": True,
        "name": "Nguyễn Thị Hoà",
        "groups": ["loa:editor:so-y-te"],
    }


async def _sign_in(provider: Provider, **broken: Any) -> str:
    """A whole sign-in whose ID token has ``broken`` claims (None removes one); the person's name."""
    settings = TrackerSettings(
        mode="development", oidc_issuer=ISSUER, oidc_client_id=CLIENT, oidc_client_secret="s" * 32
    )
    client = OidcClient(settings, httpx.AsyncClient(transport=httpx.MockTransport(provider)))
    state, url = await client.begin("https://loa.example.gov.vn/auth/callback", "/")
    nonce = parse_qs(urlsplit(url).query)["nonce"][0]
    claims = {**_good_claims(nonce), **broken}
    provider.claims = {k: v for k, v in claims.items() if v is not None}
    person, _, _ = await client.finish(state, "the-code")
    return person.name


async def test_a_good_token_signs_the_person_in_and_the_code_goes_with_its_verifier() -> None:
    provider = Provider()
    assert await _sign_in(provider) == "bientap.soyte@loa.example"
    sent = provider.token_requests[0]
    assert (sent["grant_type"], sent["code"]) == ("authorization_code", "the-code")
    assert len(sent["code_verifier"]) >= 43  # RFC 7636 §4.1


@pytest.mark.parametrize(
    ("broken", "because"),
    [
        ({"iss": "https://evil.example/realms/bo"}, "Invalid claim: 'iss'"),
        ({"aud": "another-client"}, "Invalid claim: 'aud'"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "The token is expired"),
        ({"nonce": "a-nonce-from-elsewhere"}, "Invalid claim: 'nonce'"),
        ({"nonce": None}, "Missing claim: 'nonce'"),
        ({"exp": None}, "Missing claim: 'exp'"),
    ],
)
async def test_a_token_breaking_one_rule_is_refused_for_that_rule(
    broken: dict[str, Any], because: str
) -> None:
    with pytest.raises(SignInError) as refused:
        await _sign_in(Provider(), **broken)
    assert refused.value.reason == "oidc_failed"
    assert because in refused.value.detail


async def test_a_token_signed_with_another_key_is_refused() -> None:
    provider = Provider()
    provider.key = OTHER_KEY  # same kid, not the provider's published key
    with pytest.raises(SignInError, match="ID token refused: BadSignatureError"):
        await _sign_in(provider)


async def test_metadata_naming_another_issuer_is_refused() -> None:
    provider = Provider()
    provider.issuer = "https://evil.example/"
    with pytest.raises(SignInError, match="issuer"):
        await _sign_in(provider)


async def test_a_state_is_used_once() -> None:
    provider = Provider()
    settings = TrackerSettings(
        mode="development", oidc_issuer=ISSUER, oidc_client_id=CLIENT, oidc_client_secret="s" * 32
    )
    client = OidcClient(settings, httpx.AsyncClient(transport=httpx.MockTransport(provider)))
    state, url = await client.begin("https://loa.example.gov.vn/auth/callback", "/units")
    provider.claims = _good_claims(parse_qs(urlsplit(url).query)["nonce"][0])
    assert (await client.finish(state, "the-code"))[1] == "/units"
    with pytest.raises(SignInError, match="unknown, used or expired state"):
        await client.finish(state, "the-code")
    assert len(provider.token_requests) == 1
