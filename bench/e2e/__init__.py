"""Issue 11's end-to-end benchmark harness; run it with ``python bench/e2e.py`` (or ``make bench``)."""
