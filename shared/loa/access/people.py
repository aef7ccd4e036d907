"""An OpenID Connect ID token's claims as a Loa person: a stable name, a display name, role grants.

Grants come from one claim listing groups (``groups`` by default, LOA_OIDC_GROUPS_CLAIM): each group
of the form ``loa:<role>:<unit>`` grants that role on that unit (``*``: every unit); other groups
are the provider's own business and are ignored. A person with no such group gets no session.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import httpx

from loa.access.id_tokens import IdTokenError, IdTokenVerifier
from loa.access.principal import ALL_UNITS, Grant, Kind, Principal, Role

log = logging.getLogger(__name__)
GROUP_PREFIX = "loa"
UNIT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
"""A unit's id in a group: lower-case ASCII, digits and hyphens (a slug: ``so-y-te``, not ``Sở Y tế``)."""
MAX_NAME = 200
"""The longest name or display name a session keeps (the sessions table's columns)."""


class NotAPersonError(ValueError):
    """The claims name nobody Loa can let in; the message says which claim and why."""


def grant_of(group: str) -> Grant | None:
    """The grant a group names, or None for a group that is not ``loa:<role>:<unit>``."""
    prefix, _, rest = group.partition(":")
    role, _, unit = rest.partition(":")
    if prefix != GROUP_PREFIX or role not in Role.__members__.values():
        return None
    if unit != ALL_UNITS and not UNIT_ID.match(unit):
        return None
    return Grant(Role(role), unit)


def grants_of(groups: Any) -> frozenset[Grant]:
    """The grants of a groups claim (a list of strings); anything else in it is ignored."""
    if not isinstance(groups, list):
        return frozenset()
    found = {grant_of(g) for g in groups if isinstance(g, str)}
    ignored = [
        g for g in groups if isinstance(g, str) and g.startswith(f"{GROUP_PREFIX}:") and grant_of(g) is None
    ]
    if ignored:
        log.warning("ignored malformed Loa groups in an ID token: %s", ignored[:10])
    return frozenset(g for g in found if g is not None)


def _text(value: Any) -> str:
    return unicodedata.normalize("NFC", value).strip()[:MAX_NAME] if isinstance(value, str) else ""


def person_of(claims: Mapping[str, Any], groups_claim: str) -> Principal:
    """The person of verified ID token claims.

    The name is the e-mail when the provider says it is verified (people read it in approvals and
    the audit log), else the subject, which OpenID Connect Core §2 makes stable and never reassigned
    within the issuer.
    """
    subject = _text(claims.get("sub"))
    if not subject:
        raise NotAPersonError("the ID token has no subject (sub)")
    email = _text(claims.get("email"))
    name = email.lower() if email and claims.get("email_verified") is True else subject
    grants = grants_of(claims.get(groups_claim))
    if not grants:
        raise NotAPersonError(f"the {groups_claim} claim gives no Loa role (a group like loa:editor:so-y-te)")
    display = _text(claims.get("name")) or _text(claims.get("preferred_username")) or name
    return Principal(name, Kind.PERSON, grants, display_name=display)


JWS_PARTS = 3
"""An ID token is a JWS in compact form: header, payload and signature separated by dots."""


class PersonTokens:
    """People's ID tokens presented as bearer tokens: the tracker forwards the signed-in person's
    for the decisions it makes on their behalf, and the service that receives it verifies it
    itself against the provider's keys (issuer, audience, signature, expiry), so the forwarder can
    neither forge nor widen a person's authority."""

    def __init__(self, verifier: IdTokenVerifier, groups_claim: str) -> None:
        self.verifier = verifier
        self.groups_claim = groups_claim

    @staticmethod
    def looks_like_one(token: str) -> bool:
        return token.startswith("eyJ") and len(token.split(".")) == JWS_PARTS

    async def find(self, token: str) -> Principal | None:
        """The person of a valid ID token, or None (why is logged, never the token)."""
        try:
            return person_of(await self.verifier.verify(token), self.groups_claim)
        except (IdTokenError, NotAPersonError) as e:
            log.warning("a person's ID token was refused: %s", e)
        except httpx.HTTPError as e:
            log.warning("a person's ID token could not be checked: the provider is unreachable: %s", e)
        return None
