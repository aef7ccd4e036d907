"""The channel adapter contract, its errors and the registry."""

from loa.channels.base import Account, ChannelAdapter, Context, Limits, Post, PublishResult, Secret
from loa.channels.errors import (
    AuthError,
    ChannelError,
    DuplicatePostError,
    LimitError,
    PermanentError,
    TransientError,
    UnsupportedError,
    media_missing,
)
from loa.channels.limits import check_limits
from loa.channels.registry import DuplicateChannelError, get, load_entry_points, names, register
from loa.channels.scheduling import NativeWindow, handover_at, native_due

__all__ = [
    "Account",
    "AuthError",
    "ChannelAdapter",
    "ChannelError",
    "Context",
    "DuplicateChannelError",
    "DuplicatePostError",
    "LimitError",
    "Limits",
    "NativeWindow",
    "PermanentError",
    "Post",
    "PublishResult",
    "Secret",
    "TransientError",
    "UnsupportedError",
    "check_limits",
    "get",
    "handover_at",
    "load_entry_points",
    "media_missing",
    "names",
    "native_due",
    "register",
]
