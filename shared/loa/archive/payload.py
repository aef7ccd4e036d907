"""What a publisher sent: the rendered post, as canonical JSON, named by its SHA-256.

The delivery's status events carry the hash (``Delivery.payload_sha256``) from its first attempt
on. The publisher writes the bytes to its outbox with the attempt's ``publishing`` event, in one
transaction (``loa.publisher.store.status_events``); its relay sends them to ``loa.payload.v1``,
keyed by the hash, and the archiver stores them under ``payloads/<sha256>.json``
(``services/archive/payloads.py``). The post's ``progress`` (an upload session, resumable state)
is not what was sent and is left out; its media are there with their ``sha256/<hex>`` keys, which
are their hashes.
"""

from __future__ import annotations

from loa.archive.records import canonical_json, sha256_hex
from loa.channels import Post


def sent_payload(post: Post) -> bytes:
    return canonical_json({k: v for k, v in post.document().items() if k != "progress"})


def payload_sha256(post: Post) -> str:
    return sha256_hex(sent_payload(post))
