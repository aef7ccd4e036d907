"""Who may do what on which unit: the one policy every route of the ingest and the tracker, and the
CLI, asks.

Roles and what they include (written down in docs/security.md, "Roles and units"):

- ``viewer`` reads the contents, deliveries, stats and alerts of its units;
- ``editor`` also uploads media and submits (and updates its own) content for its units' accounts;
- ``spokesperson`` also approves, rejects, updates any content of its units, retracts,
  publishes corrections ("Đính chính": a content of kind ``correction``), sends urgent content
  (``priority: urgent``, the urgent lane) and manages its units' communication incidents;
- ``operator`` reads every unit, retries, cancels and holds deliveries and manages incidents; it
  does not publish or retract (a technical role, not the office's voice);
- ``admin`` may do everything on every unit, and alone manages accounts, people and tokens.

The unit-scoped roles are cumulative (viewer < editor < spokesperson), so a spokesperson need not
also be granted editor. A grant on a unit covers its children in the unit tree
(``loa.access.units``); ``ALL_UNITS`` covers every unit, known or not.
"""

from __future__ import annotations

from enum import StrEnum

from loa.access.principal import ALL_UNITS, Principal, Role
from loa.access.units import UnitTree


class Action(StrEnum):
    READ = "read"
    """Contents, deliveries, stats, alerts, live events."""
    EXPORT = "export"
    """CSV downloads of deliveries."""
    UPLOAD_MEDIA = "upload_media"
    SUBMIT = "submit"
    """A first version, or a new version of the principal's own content."""
    UPDATE = "update"
    """A new version of a content another principal submitted."""
    APPROVE = "approve"
    REJECT = "reject"
    RETRACT = "retract"
    PUBLISH_CORRECTION = "publish_correction"
    """Submit a content of kind ``correction`` (it corrects another content of the unit's)."""
    PUBLISH_URGENT = "publish_urgent"
    """Content with ``priority: urgent``: claimed before any normal backlog (the urgent lane)."""
    RETRY = "retry"
    CANCEL = "cancel"
    HOLD = "hold"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_PEOPLE = "manage_people"
    MANAGE_TOKENS = "manage_tokens"
    READ_AUDIT = "read_audit"
    """The audit log: every person's acts, of every unit (admins only)."""
    MANAGE_INCIDENT = "manage_incident"
    """Open and close a communication incident of its units and write its notes (reading it is ``read``)."""
    MANAGE_PRESS_LISTS = "manage_press_lists"
    """See and change the recipients of its units' press lists (journalists' names and addresses)."""
    MODERATE_COMMENTS = "moderate_comments"
    """Mark citizens' comments on its units' posts seen, answered, hidden or escalated (the inbox)."""
    MANAGE_WATCHLIST = "manage_watchlist"
    """Change the misinformation watchlist of its units (phrases that raise an alert)."""


_VIEWER = frozenset({Action.READ, Action.EXPORT})
_EDITOR = _VIEWER | {Action.UPLOAD_MEDIA, Action.SUBMIT}
_SPOKESPERSON = _EDITOR | {
    Action.UPDATE,
    Action.APPROVE,
    Action.REJECT,
    Action.RETRACT,
    Action.PUBLISH_CORRECTION,
    Action.PUBLISH_URGENT,
    Action.MANAGE_INCIDENT,
    Action.MANAGE_PRESS_LISTS,
    Action.MODERATE_COMMENTS,
    Action.MANAGE_WATCHLIST,
}
_OPERATOR = _VIEWER | {
    Action.RETRY,
    Action.CANCEL,
    Action.HOLD,
    Action.MANAGE_INCIDENT,
    Action.MODERATE_COMMENTS,
}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: _VIEWER,
    Role.EDITOR: _EDITOR,
    Role.SPOKESPERSON: _SPOKESPERSON,
    Role.OPERATOR: _OPERATOR,
    Role.ADMIN: frozenset(Action),
}
"""What each role may do, on the units of its grant."""

ALL_UNIT_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
"""Roles whose grant covers every unit whatever unit it names: they serve the whole office."""


class Policy:
    """The answers, given the office's unit tree."""

    def __init__(self, units: UnitTree) -> None:
        self.units = units

    def may(self, principal: Principal, action: Action, unit: str | None = None) -> bool:
        """Whether ``principal`` may do ``action`` on ``unit`` (``None``: on some unit at all)."""
        return any(
            action in ROLE_ACTIONS[g.role] and (unit is None or self._covers(g.role, g.unit, unit))
            for g in principal.grants
        )

    def units_for(self, principal: Principal, action: Action) -> frozenset[str] | None:
        """The units ``principal`` may do ``action`` on, children included; ``None`` means every unit."""
        found: set[str] = set()
        for g in principal.grants:
            if action not in ROLE_ACTIONS[g.role]:
                continue
            if g.unit == ALL_UNITS or g.role in ALL_UNIT_ROLES:
                return None
            found |= self.units.subtree(g.unit)
        return frozenset(found)

    def refusal(self, principal: Principal, action: Action, unit: str | None = None) -> str | None:
        """Why ``principal`` may not, in a sentence for a 403; ``None`` if it may."""
        if self.may(principal, action, unit):
            return None
        roles = sorted(r.value for r in roles_that_may(action))
        held = ", ".join(sorted(f"{g.role.value} on {g.unit}" for g in principal.grants)) or "no role"
        where = "" if unit is None else f" on unit {unit!r}"
        return f"{principal.name} may not {action.value}{where}: that needs {' or '.join(roles)} ({held})"

    def _covers(self, role: Role, granted: str, unit: str) -> bool:
        return granted == ALL_UNITS or role in ALL_UNIT_ROLES or self.units.contains(granted, unit)


def roles_that_may(action: Action) -> frozenset[Role]:
    return frozenset(role for role, actions in ROLE_ACTIONS.items() if action in actions)
