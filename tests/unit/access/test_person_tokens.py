"""A person's ID token presented to the ingest (forwarded by the approvals page): accepted only if
the provider signed it for Loa's client and it has not expired; the grants are those its groups
give, never more.

The provider is a stand-in served through httpx's MockTransport (discovery and JWKS) so that each
test can sign the token it needs; the real provider is exercised by tests/e2e/test_approvals_page.py.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from loa.access.bearer import BearerTokens, configured_account
from loa.access.id_tokens import IdTokenVerifier
from loa.access.people import PersonTokens
from loa.access.principal import Grant, Kind, Role
from loa.access.tokens import TokenStore

pytestmark = pytest.mark.unit
ISSUER = "https://sso.example.gov.vn/realms/bo"
CLIENT = "loa-tracker"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"}, private=True)
ATTACKER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"}, private=True)


def _provider(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/.well-known/openid-configuration"):
        algs = ["RS256"]
        meta = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks", "id_token_signing_alg_values_supported": algs}
        return httpx.Response(200, json=meta)
    if request.url.path.endswith("/jwks"):
        return httpx.Response(200, json={"keys": [KEY.as_dict(private=False)]})
    return httpx.Response(404)


def _people() -> PersonTokens:
    http = httpx.AsyncClient(transport=httpx.MockTransport(_provider))
    return PersonTokens(IdTokenVerifier(ISSUER, CLIENT, http), "groups")


def _id_token(key: RSAKey = KEY, **changed: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "f81d-4fae",
        "aud": CLIENT,
        "exp": now + 300,
        "iat": now,
        "nonce": "from-the-sign-in",
        "email": "phatngon.soyte@loa.example",
        "email_verified": True,
        "name": "Trần Đức Thắng",
        "groups": ["loa:spokesperson:so-y-te", "phong-bao-chi"],
    } | changed
    return jwt.encode({"alg": "RS256", "kid": "k1"}, {k: v for k, v in claims.items() if v is not None}, key)


async def test_a_valid_id_token_is_the_person_with_the_grants_of_its_groups() -> None:
    person = await _people().find(_id_token())
    assert person is not None
    assert (person.name, person.kind, person.display_name) == (
        "phatngon.soyte@loa.example",
        Kind.PERSON,
        "Trần Đức Thắng",
    )
    assert person.grants == frozenset({Grant(Role.SPOKESPERSON, "so-y-te")})


@pytest.mark.parametrize(
    ("token", "because"),
    [
        (lambda: _id_token(exp=int(time.time()) - 3600), "expired"),
        (lambda: _id_token(aud="another-client"), "issued for another client"),
        (lambda: _id_token(iss="https://evil.example"), "of another issuer"),
        (lambda: _id_token(ATTACKER_KEY), "signed with a key that is not the provider's"),
        (lambda: _id_token(groups=["phong-bao-chi"]), "no Loa group"),
        (lambda: _id_token(sub=None), "no subject"),
    ],
)
async def test_a_token_that_breaks_a_rule_is_nobody(
    token: Any, because: str, caplog: pytest.LogCaptureFixture
) -> None:
    presented = token()
    assert await _people().find(presented) is None, because
    assert presented not in caplog.text  # the reason is logged, never the token


async def test_the_ingest_still_finds_configured_tokens_first_and_ignores_id_tokens_without_a_provider(
    sqlite_url: str,
) -> None:
    store = TokenStore.at(sqlite_url)
    cms = configured_account("cms", [Role.EDITOR], ["so-y-te"])
    with_people = BearerTokens([("cms-token-0123456789", cms)], store, _people())
    assert await with_people.find("cms-token-0123456789") == cms
    found = await with_people.find(_id_token())
    assert found is not None and found.kind is Kind.PERSON
    without = BearerTokens([("cms-token-0123456789", cms)], store)
    assert await without.find(_id_token()) is None  # the tracker: no person tokens by bearer
    await store.close()
