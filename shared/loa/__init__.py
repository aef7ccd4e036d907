"""Loa: the shared library every Loa service imports (events, media, the publisher runtime)."""

import sys

__version__ = "0.1.0"

UNUSED_EXTRAS = ("httpx._main", "mako.ext.pygmentplugin")
"""Optional parts that libraries load when they find their dependencies installed — rich, pygments
and click are, for ``loa``'s own CLI — and no Loa process uses: httpx's command-line client (its
``__init__`` imports it) and Mako's syntax highlighting of template errors (Alembic imports
``mako.exceptions``). Together ~7 MB resident in every service (bench/rss.py; issue #20's 120 MB).
``None`` in ``sys.modules`` makes their import raise ImportError (the import system's documented
rule), which both libraries catch and go on without them."""

for _name in UNUSED_EXTRAS:
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]
