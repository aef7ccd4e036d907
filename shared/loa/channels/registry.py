"""The explicit registry of channel adapters; outside adapters join by entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

from loa.channels.base import ChannelAdapter

ENTRY_POINT_GROUP = "loa.channels"

_registry: dict[str, type[ChannelAdapter]] = {}


class DuplicateChannelError(ValueError):
    """Two adapters claim the same channel name."""


def register(adapter: type[ChannelAdapter]) -> type[ChannelAdapter]:
    """Register an adapter class (usable as a decorator); a second one of that name is refused."""
    existing = _registry.get(adapter.name)
    if existing is not None and existing is not adapter:
        raise DuplicateChannelError(
            f"channel {adapter.name!r} is already registered by {existing.__module__}.{existing.__qualname__}"
        )
    _registry[adapter.name] = adapter
    return adapter


def load_entry_points(name: str | None = None) -> dict[str, type[ChannelAdapter]]:
    """Import and register the adapters of the ``loa.channels`` entry-point group (only ``name``'s
    if given): every channel, of this repository or not, joins this way. Returns them by name."""
    found = entry_points(group=ENTRY_POINT_GROUP)
    loaded: dict[str, type[ChannelAdapter]] = {}
    for ep in found if name is None else found.select(name=name):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, ChannelAdapter)):
            raise TypeError(f"entry point {ep.name} is not a ChannelAdapter subclass")
        loaded[ep.name] = register(cls)
    return loaded


def get(name: str) -> type[ChannelAdapter]:
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry)) or "none"
        raise KeyError(f"unknown channel {name!r} (registered: {known})") from None


def names() -> list[str]:
    return sorted(_registry)


def unregister(name: str) -> None:
    """For tests only."""
    _registry.pop(name, None)
