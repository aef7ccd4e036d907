"""Loa: the shared library every Loa service imports (events, media, the publisher runtime)."""

__version__ = "0.1.0"
