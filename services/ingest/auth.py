"""The ingest's callers: service accounts with bearer tokens, and people whose ID token the tracker
forwards (verified here against the provider), checked against ``loa.access.policy``.

Tokens come from ``loa tokens issue`` (the shared, hashed table) or, deprecated, from
``LOA_INGEST_TOKENS`` / ``LOA_API_TOKEN``; never logged.
"""

from __future__ import annotations

from fastapi import Request

from loa.access import Principal
from loa.access.bearer import ADMIN_NAME, NO_UNIT, BearerTokens, configured_account
from loa.access.id_tokens import IdTokenVerifier
from loa.access.people import PersonTokens
from loa.access.policy import Action, Policy
from loa.access.principal import Role
from loa.access.tokens import TokenStore
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings, LegacyRole

LEGACY_ROLES: dict[LegacyRole, Role] = {
    LegacyRole.UPLOADER: Role.EDITOR,  # on no unit: uploads media, submits nothing (see NO_UNIT)
    LegacyRole.PUBLISHER: Role.EDITOR,
}
"""What the ingest's roles before #16 became. A ``publisher`` is an editor: it no longer approves
for others, updates another client's content or retracts (that takes a spokesperson)."""


def bearer_tokens(settings: IngestSettings, store: TokenStore) -> BearerTokens:
    configured = []
    for name, entry in settings.ingest_tokens.items():
        role = LEGACY_ROLES[entry.role] if isinstance(entry.role, LegacyRole) else entry.role
        units = (NO_UNIT,) if entry.role is LegacyRole.UPLOADER else entry.units
        configured.append((entry.token.get_secret_value(), configured_account(name, [role], units)))
    admin = settings.api_token.get_secret_value()
    if admin:
        configured.append((admin, configured_account(ADMIN_NAME, [Role.ADMIN])))
    return BearerTokens(configured, store, person_tokens(settings))


def person_tokens(settings: IngestSettings) -> PersonTokens | None:
    """People's ID tokens (``LOA_OIDC_ISSUER``, audience ``LOA_OIDC_CLIENT_ID``), if people sign in."""
    if settings.oidc_issuer is None or not settings.oidc_client_id:
        return None
    verifier = IdTokenVerifier(str(settings.oidc_issuer), settings.oidc_client_id)
    return PersonTokens(verifier, settings.oidc_groups_claim)


async def authenticate(request: Request, tokens: BearerTokens, policy: Policy, action: Action) -> Principal:
    """The calling service account, or 401 (no/unknown token) / 403 (it may not ``action`` on any unit)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required", headers=challenge)
    principal = await tokens.find(token.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown, expired or revoked token", headers=challenge)
    refusal = policy.refusal(principal, action)
    if refusal is not None:
        raise ApiError(403, "forbidden", refusal)
    return principal


def require(policy: Policy, principal: Principal, action: Action, unit: str, field: str) -> None:
    """403 naming ``field`` unless ``principal`` may ``action`` on ``unit``."""
    refusal = policy.refusal(principal, action, unit)
    if refusal is not None:
        raise ApiError(403, "forbidden", refusal, [{"field": field, "reason": refusal}])
