"""Helpers shared by tests (not fixtures): payload builders, topic readers, a live server."""
