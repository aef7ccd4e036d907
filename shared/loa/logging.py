"""Structured logs: one JSON object a line, with content/channel/account/attempt, never a token."""

from __future__ import annotations

import json
import logging
import re
import sys
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


def configure(level: str = "INFO") -> None:
    """Route every logger to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
