"""The one description of an actor that every route, the CLI and the audit log share."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

ALL_UNITS = "*"
"""The unit of a grant that covers every unit (operators and admins)."""


class Role(StrEnum):
    VIEWER = "viewer"
    """Reads contents, deliveries, stats and alerts of their units."""
    EDITOR = "editor"
    """Submits content for their units' accounts."""
    SPOKESPERSON = "spokesperson"
    """Approves and publishes urgent content and corrections, retracts, for their units."""
    OPERATOR = "operator"
    """Retries, cancels and holds deliveries of every unit."""
    ADMIN = "admin"
    """Manages accounts, people and tokens."""


class Kind(StrEnum):
    PERSON = "person"
    """Signed in to the dashboard through the office's OpenID Connect provider."""
    SERVICE = "service"
    """A content system or CI job with a bearer token."""


@dataclass(frozen=True)
class Grant:
    """One role on one unit (a unit id of the tree, or ``ALL_UNITS``); it covers the unit's children."""

    role: Role
    unit: str


@dataclass(frozen=True)
class Principal:
    """An authenticated actor. ``name`` is stable (OIDC subject's e-mail or the service account's
    name) and is what approvals and the audit log record; ``display_name`` is for people to read."""

    name: str
    kind: Kind
    grants: frozenset[Grant] = field(default_factory=frozenset)
    display_name: str = ""
    address: str = ""
    """The client address the request came from, for the audit log."""

    @property
    def label(self) -> str:
        return self.display_name or self.name
