"""hypothesis-jsonschema's ``from_schema`` on the Hypothesis this project pins.

hypothesis-jsonschema 0.23.1 (its latest release) draws object properties with the old
``cu.many(...).more()`` loop; Hypothesis 6.170.10 replaced ``more()`` by iterating the ``many``
object inside a ``with`` block. ``more()`` below is the old call expressed with the new
iterator, so each draw keeps its span structure (and shrinking) as Hypothesis expects.
Drop this module once hypothesis-jsonschema releases a version that iterates ``many``.
"""

from __future__ import annotations

from typing import Any

from hypothesis.internal.conjecture import utils as cu
from hypothesis_jsonschema import from_schema

_DONE = object()


def _more(self: Any) -> bool:
    if self._depth is None:
        self.__enter__()
        self._old_api_iterator = iter(self)
    return next(self._old_api_iterator, _DONE) is not _DONE


if not hasattr(cu.many, "more"):
    cu.many.more = _more  # type: ignore[attr-defined]

__all__ = ["from_schema"]
