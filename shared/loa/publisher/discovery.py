"""Find a channel's adapter and settings classes by channel name.

Order: the registry (adapters already imported), entry points of the ``loa.channels`` group
(adapters outside this repository), then ``services.<channel>.adapter`` in this repository. The
settings class is the ``PublisherSettings`` subclass of ``services.<channel>.settings``, if any.
"""

from __future__ import annotations

import contextlib
import importlib

from loa.channels import ChannelAdapter, registry
from loa.publisher.settings import PublisherSettings


def load_channel(channel: str) -> tuple[type[ChannelAdapter], type[PublisherSettings]]:
    """(adapter class, settings class) of ``channel``; ``KeyError`` naming the known ones if unknown."""
    if channel not in registry.names():
        registry.load_entry_points()
    if channel not in registry.names():
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(f"services.{channel}.adapter")
    adapter_cls = registry.get(channel)
    settings_cls: type[PublisherSettings] = PublisherSettings
    with contextlib.suppress(ModuleNotFoundError, StopIteration):
        module = importlib.import_module(f"services.{channel}.settings")
        settings_cls = next(
            v
            for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, PublisherSettings) and v is not PublisherSettings
        )
    return adapter_cls, settings_cls
