"""What adapter authors test with: a fake runtime context and the shared adapter contract suite."""

from loa.testing.context import FakeContext

__all__ = ["FakeContext"]
