"""WordPress mode: the content's tags and unit as the post's tags and category.

A post takes term ids only (REST reference, posts: ``tags``, ``categories``, arrays of ids), so
each name is looked up (``GET /wp/v2/tags?search=``, matched by its whole name) and created when
missing (``POST /wp/v2/tags`` with ``name``). Creating a term needs the taxonomy's ``edit_terms``
capability, which WordPress core maps to ``manage_categories`` (editors and administrators): an
account that may not create one publishes without it, and the log names the term.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from loa.channels import AuthError, PermanentError
from loa.events import Content

log = logging.getLogger(__name__)

Call = Callable[..., Awaitable[Any]]
"""``WordPress._call`` bound to an account: ``(method, path, action, **httpx kwargs)``."""


async def term_id(call: Call, taxonomy: str, name: str) -> int | None:
    """The id of the term named ``name`` (case-insensitively), created if missing; None if the
    account may not create it."""
    for attempt in range(2):
        found = await call(
            "GET", f"/{taxonomy}", f"find {taxonomy}", params={"search": name, "per_page": 100}
        )
        for term in found:
            if html.unescape(str(term.get("name", ""))).casefold() == name.casefold():
                return int(term["id"])
        if attempt:
            break
        try:
            created = await call("POST", f"/{taxonomy}", f"create {taxonomy}", json={"name": name})
        except AuthError as e:
            log.warning("WordPress %s %r left out: %s", taxonomy, name, e)
            return None
        except PermanentError as e:
            if e.code != "term_exists":
                raise
            continue  # another publisher created it meanwhile: look it up again
        return int(created["id"])
    return None


async def terms(call: Call, content: Content) -> dict[str, list[int]]:
    """``tags`` from the content's tags, ``categories`` from its unit."""
    wanted = {"tags": list(content.tags), "categories": [content.unit]}
    fields: dict[str, list[int]] = {}
    for taxonomy, names in wanted.items():
        ids = [i for name in names if (i := await term_id(call, taxonomy, name)) is not None]
        fields[taxonomy] = list(dict.fromkeys(ids))
    return fields
