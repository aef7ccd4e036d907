"""Structured logs: one JSON object a line, with content/channel/account/attempt, never a token."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("content_id", "version", "channel", "account", "attempt", "state", "event_id")

# Values that look like credentials are masked wherever they appear in a message.
# Each pattern keeps group 1 (the name) and masks group 2 (the value).
_SECRET_PATTERNS = [
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|secret_key|token|secret|password"
        r"|api_key|signature|code_verifier)=)([^&\s\"']+)"
    ),
    re.compile(r"(?i)((?:bearer|basic|oauth)\s+)([A-Za-z0-9._~+/=,\"-]{8,})"),
    re.compile(r"(?i)(\"(?:access_token|refresh_token|token|secret|secret_key|password)\"\s*:\s*\")([^\"]+)"),
    # the password of a URL's userinfo: postgresql+asyncpg://loa_tracker:<password>@host/db (RFC 3986 3.2.1)
    re.compile(r"(://[^:/@\s]+:)([^@/\s]+)(?=@)"),
]


def redact(text: str) -> str:
    """Mask anything that looks like a credential in ``text``."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}***", text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


REPEAT_WINDOW_SECONDS = 30.0
"""A warning repeated within this window (same logger, same message template) is dropped."""


class RepeatFilter(logging.Filter):
    """Let one of each repeated warning through per window, then say how many were dropped.

    While a broker is down, aiokafka logs its connection failure in a tight loop (820,000
    warnings in 11 minutes were measured); one line per window says the same. Records below
    WARNING pass untouched: they are off by default, and a debug session wants them all.
    """

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self._seen: dict[tuple[str, int, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, record.msg)
        now = self.clock()
        first, dropped = self._seen.get(key, (None, 0))
        if first is not None and now - first < self.window:
            self._seen[key] = (first, dropped + 1)
            return False
        if len(self._seen) > 1000:  # templates are few; a flood of distinct ones starts afresh
            self._seen.clear()
        self._seen[key] = (now, 0)
        if dropped:
            record.msg = f"{record.msg} (and {dropped} more like it in the last {now - first:.0f} s)"
        return True


def configure(level: str = "INFO") -> None:
    """Route every logger to stderr as JSON lines, repeated warnings rate-limited."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
