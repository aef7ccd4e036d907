"""What the archiver does with ``loa.payload.v1``: each attempt's payload, stored under its hash.

A record's key is the SHA-256 of its value (``loa.archive.payload``), which is what the status
events name: a value that does not hash to its key, or is not a rendered post
(``loa.events.payload``), is refused and dead-lettered (this group alone reads the topic, so it
owns its dead letters). Storing is idempotent (content-addressed); a failed PUT fails the batch,
which is read again.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from prometheus_client import Counter

from loa.archive.records import sha256_hex
from loa.archive.store import ArchiveStore
from loa.events.parsing import RefusedMessageError
from loa.events.payload import parse_sent_post

REMEMBERED = 4096
"""Hashes the archiver remembers having stored: an attempt retried with the same post, or a batch
read again, does not store it again (a second version of the same bytes) while remembered."""


@dataclass(frozen=True)
class SentPayload:
    sha256: str
    data: bytes


def sent_payload_of(record: ConsumerRecord[Any, Any]) -> SentPayload:
    """The payload a record carries; raises ``ValueError`` for one to refuse."""
    data: bytes = record.value or b""
    key = (record.key or b"").decode("utf-8", "replace")
    sha = sha256_hex(data)
    if key != sha:
        raise RefusedMessageError(
            "key_mismatch", f"key: {key[:80]!r} is not the value's SHA-256 {sha!r} (key = sha256)"
        )
    parse_sent_post(data)  # a ValidationError names the field ("unparseable": not JSON)
    return SentPayload(key, data)


class PayloadKeeper:
    def __init__(self, store: ArchiveStore, stored: Counter) -> None:
        self.store = store
        self.stored = stored
        self._remembered: OrderedDict[str, None] = OrderedDict()

    async def keep(self, payloads: Sequence[SentPayload]) -> None:
        """Store each payload not remembered, one after the other; an error propagates (the batch
        is read again)."""
        for p in payloads:
            if p.sha256 in self._remembered:
                continue
            await asyncio.to_thread(self.store.put_payload, p.sha256, p.data)
            self.stored.inc()
            self._remembered[p.sha256] = None
            while len(self._remembered) > REMEMBERED:
                self._remembered.popitem(last=False)
