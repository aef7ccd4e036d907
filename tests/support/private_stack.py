"""Moved to ``loa.testing.private_stack`` (the fault drill under ``bench/`` uses it too)."""

from loa.testing.private_stack import COMPONENTS, LOCAL, PrivateStack, free_port, main_cache

__all__ = ["COMPONENTS", "LOCAL", "PrivateStack", "free_port", "main_cache"]
