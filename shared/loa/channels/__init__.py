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
from loa.channels.registry import DuplicateChannelError, get, load_entry_points, names, register

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
    "PermanentError",
    "Post",
    "PublishResult",
    "Secret",
    "TransientError",
    "UnsupportedError",
    "get",
    "load_entry_points",
    "media_missing",
    "names",
    "register",
]
