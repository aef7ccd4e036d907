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
