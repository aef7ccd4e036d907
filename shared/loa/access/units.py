"""The office's unit tree (ministry → department → ...): a role on a unit covers its children.

Read from ``LOA_UNITS``, a JSON object of each unit's name to its parent's (``null`` for a root):
``{"Bộ Thông tin và Truyền thông": null, "Vụ Truyền thông và Báo chí": "Bộ Thông tin và Truyền thông"}``.
The names are the ``unit`` contents carry, compared in NFC. A unit the tree does not list is a leaf
of its own: only a grant on that very unit (or on every unit) covers it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip())


class UnitTreeError(ValueError):
    """``LOA_UNITS`` names a parent it does not list, or a unit is its own ancestor."""


class UnitTree:
    def __init__(self, parents: Mapping[str, str | None] | None = None) -> None:
        self._parent = {nfc(u): (nfc(p) if p else None) for u, p in (parents or {}).items()}
        for unit, parent in self._parent.items():
            if parent is not None and parent not in self._parent:
                raise UnitTreeError(f"LOA_UNITS: the parent {parent!r} of {unit!r} is not a unit of the tree")
            self.ancestors(unit)  # refuses a cycle at start, not at the first request

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._parent)

    def ancestors(self, unit: str) -> list[str]:
        """``unit`` and its ancestors, nearest first."""
        chain = [nfc(unit)]
        while (parent := self._parent.get(chain[-1])) is not None:
            if parent in chain:
                raise UnitTreeError(f"LOA_UNITS: {unit!r} is its own ancestor")
            chain.append(parent)
        return chain

    def contains(self, ancestor: str, unit: str) -> bool:
        """Whether ``unit`` is ``ancestor`` or below it."""
        return nfc(ancestor) in self.ancestors(unit)

    def subtree(self, unit: str) -> frozenset[str]:
        """``unit`` and every unit below it."""
        root = nfc(unit)
        return frozenset({root} | {u for u in self._parent if root in self.ancestors(u)})
