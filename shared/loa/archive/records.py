"""One archive record: an event as it came off Kafka, chained to its content's previous record.

A record is a JSON object (sorted keys, no spaces, UTF-8) stored as
``records/<content id>/<seq, 6 digits>-<event id>.json``; it holds ``prev_sha256``, the SHA-256 of
the bytes of the record before it (``GENESIS`` for the first). Editing, deleting or inserting a
record breaks the chain at the next one, which ``loa.archive.bundle.verify`` names; like the audit
log's chain (``loa.audit.chain``) it cannot show a cut tail alone: the signed export's manifest
and the store's object lock do.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORMAT = 1
GENESIS = "0" * 64
"""The ``prev_sha256`` of a content's first record."""
RECORDS = "records/"
KEY = re.compile(r"^records/(?P<content>[^/]+)/(?P<seq>[0-9]{6})-(?P<event>[0-9a-f-]{36})\.json$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_key(content_id: str, seq: int, event_id: str) -> str:
    return f"{RECORDS}{content_id}/{seq:06d}-{event_id}.json"


def content_prefix(content_id: str) -> str:
    return f"{RECORDS}{content_id}/"


@dataclass(frozen=True)
class Head:
    """The last record of a content: where the next one goes and what it chains to."""

    seq: int
    sha256: str
    content_kind: str | None
    event_ids: frozenset[str]


EMPTY = Head(0, GENESIS, None, frozenset())


@dataclass(frozen=True)
class Source:
    """Where an event was read: its topic (without the tests' prefix), partition and offset."""

    topic: str
    partition: int
    offset: int


def build_record(
    head: Head,
    content_id: str,
    raw: bytes,
    source: Source,
    content_kind: str | None,
    archived_at: datetime | None = None,
) -> bytes:
    """The bytes of the record after ``head`` for the event ``raw`` (kept as its JSON object;
    ``event_sha256`` is of the bytes as they came, so the record proves them too)."""
    event = json.loads(raw)
    document = {
        "format": FORMAT,
        "content_id": content_id,
        "seq": head.seq + 1,
        "prev_sha256": head.sha256,
        "content_kind": content_kind or head.content_kind,
        "archived_at": (archived_at or datetime.now(UTC)).isoformat(timespec="microseconds"),
        "source": {"topic": source.topic, "partition": source.partition, "offset": source.offset},
        "event_sha256": sha256_hex(raw),
        "event": event,
    }
    return canonical_json(document)


def head_of(keys: list[str], last: bytes | None) -> Head:
    """The head of a content from its record keys (sorted) and the bytes of the last one."""
    if not keys or last is None:
        return EMPTY
    match = KEY.match(keys[-1])
    if match is None:
        raise ValueError(f"{keys[-1]}: not an archive record key")
    document = json.loads(last)
    ids = frozenset(m.group("event") for m in map(KEY.match, keys) if m)
    return Head(int(match.group("seq")), sha256_hex(last), document.get("content_kind"), ids)
