"""``loa.access.policy``: roles, the unit tree, and the sentences a refusal says."""

from __future__ import annotations

import unicodedata

import pytest

from loa.access.policy import Action, Policy, roles_that_may
from loa.access.principal import ALL_UNITS, Grant, Kind, Principal, Role
from loa.access.units import UnitTree, UnitTreeError

pytestmark = pytest.mark.unit

BO = "Bộ Thông tin và Truyền thông"
VU_TT = "Vụ Truyền thông và Báo chí"
PHONG = "Phòng Báo chí điện tử"
VU_PC = "Vụ Pháp chế"
TREE = UnitTree({BO: None, VU_TT: BO, PHONG: VU_TT, VU_PC: BO})
POLICY = Policy(TREE)


def who(role: Role, unit: str) -> Principal:
    return Principal(f"{role.value}@{unit}", Kind.SERVICE, frozenset({Grant(role, unit)}))


def test_a_role_on_a_unit_covers_its_children_and_not_its_siblings_or_parent() -> None:
    spokesperson = who(Role.SPOKESPERSON, VU_TT)
    assert POLICY.may(spokesperson, Action.RETRACT, VU_TT)
    assert POLICY.may(spokesperson, Action.RETRACT, PHONG)
    assert not POLICY.may(spokesperson, Action.RETRACT, VU_PC)
    assert not POLICY.may(spokesperson, Action.RETRACT, BO)
    minister_office = who(Role.VIEWER, BO)
    assert all(POLICY.may(minister_office, Action.READ, u) for u in (BO, VU_TT, PHONG, VU_PC))
    assert POLICY.units_for(who(Role.VIEWER, VU_TT), Action.READ) == frozenset({VU_TT, PHONG})


def test_unit_roles_are_cumulative_and_operators_serve_every_unit_without_publishing() -> None:
    editor, spokesperson = who(Role.EDITOR, VU_TT), who(Role.SPOKESPERSON, VU_TT)
    assert POLICY.may(editor, Action.READ, VU_TT) and POLICY.may(editor, Action.SUBMIT, VU_TT)
    assert not POLICY.may(editor, Action.RETRACT, VU_TT) and not POLICY.may(editor, Action.UPDATE, VU_TT)
    assert POLICY.may(spokesperson, Action.SUBMIT, VU_TT) and POLICY.may(spokesperson, Action.APPROVE, VU_TT)
    operator = who(Role.OPERATOR, VU_TT)  # an operator's grant covers every unit whatever it names
    assert POLICY.may(operator, Action.RETRY, VU_PC) and POLICY.units_for(operator, Action.READ) is None
    assert not POLICY.may(operator, Action.RETRACT, VU_PC)
    assert not POLICY.may(operator, Action.SUBMIT, VU_PC)
    assert roles_that_may(Action.RETRACT) == {Role.SPOKESPERSON, Role.ADMIN}
    assert roles_that_may(Action.MANAGE_TOKENS) == {Role.ADMIN}


def test_only_a_spokesperson_of_the_unit_or_an_admin_sends_urgent_content() -> None:
    assert roles_that_may(Action.PUBLISH_URGENT) == {Role.SPOKESPERSON, Role.ADMIN}
    spokesperson = who(Role.SPOKESPERSON, VU_TT)
    assert POLICY.may(spokesperson, Action.PUBLISH_URGENT, VU_TT)
    assert not POLICY.may(spokesperson, Action.PUBLISH_URGENT, VU_PC)
    refusal = POLICY.refusal(who(Role.EDITOR, VU_TT), Action.PUBLISH_URGENT, VU_TT)
    assert refusal is not None and "publish_urgent" in refusal and "admin or spokesperson" in refusal


def test_a_unit_no_grant_names_needs_a_grant_on_every_unit() -> None:
    everyone = who(Role.EDITOR, ALL_UNITS)
    assert POLICY.may(everyone, Action.SUBMIT, ALL_UNITS)
    assert POLICY.may(everyone, Action.SUBMIT, "Sở Thông tin và Truyền thông Đà Nẵng")  # not in the tree
    assert not POLICY.may(who(Role.SPOKESPERSON, BO), Action.SUBMIT, ALL_UNITS)


def test_unit_names_compare_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", VU_TT)
    assert decomposed != VU_TT
    assert POLICY.may(who(Role.VIEWER, decomposed), Action.READ, PHONG)
    assert POLICY.may(who(Role.VIEWER, BO), Action.READ, unicodedata.normalize("NFD", PHONG))


def test_a_refusal_names_the_account_the_action_the_unit_and_the_roles_that_may() -> None:
    refusal = POLICY.refusal(who(Role.OPERATOR, ALL_UNITS), Action.RETRACT, VU_PC)
    assert refusal == (
        f"operator@* may not retract on unit {VU_PC!r}: that needs admin or spokesperson (operator on *)"
    )
    assert POLICY.refusal(who(Role.ADMIN, ALL_UNITS), Action.RETRACT, VU_PC) is None


def test_a_tree_with_an_unknown_parent_or_a_cycle_is_refused_at_start() -> None:
    with pytest.raises(UnitTreeError, match="is not a unit of the tree"):
        UnitTree({VU_TT: BO})
    with pytest.raises(UnitTreeError, match="its own ancestor"):
        UnitTree({VU_TT: VU_PC, VU_PC: VU_TT})
