"""Find a channel's adapter and settings classes by channel name.

The adapter comes from the registry (already imported) or else from its entry point in the
``loa.channels`` group: every channel registers there, in ``pyproject.toml`` for this repository's
(``make setup`` reinstalls the package when that file changes, which records them). The settings
class is the ``PublisherSettings`` subclass of the adapter's package's ``settings`` module, if any.
"""

from __future__ import annotations

import contextlib
import importlib

from loa.channels import ChannelAdapter, registry
from loa.publisher.settings import PublisherSettings


def load_channel(channel: str) -> tuple[type[ChannelAdapter], type[PublisherSettings]]:
    """(adapter class, settings class) of ``channel``; ``KeyError`` naming the known ones if unknown."""
    if channel not in registry.names():
        registry.load_entry_points(channel)
    adapter_cls = registry.get(channel)
    settings_cls: type[PublisherSettings] = PublisherSettings
    package = adapter_cls.__module__.rpartition(".")[0]
    with contextlib.suppress(ModuleNotFoundError, StopIteration):
        module = importlib.import_module(f"{package}.settings")
        settings_cls = next(
            v
            for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, PublisherSettings) and v is not PublisherSettings
        )
    return adapter_cls, settings_cls
