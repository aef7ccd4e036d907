"""Many replicas, proven (issue #22, item 2); run it with ``python bench/chaos.py`` (or ``make chaos``)."""
