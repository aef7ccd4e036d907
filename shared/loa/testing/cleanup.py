"""Drop what tests and benches created on a shared local stack: their Kafka topics and buckets.

Thousands of leftovers are not harmless: on a 2-core machine they kept MinIO's background scanner
at ~40 % of a core and the broker at ~10 % while nothing else ran.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from aiokafka.admin import AIOKafkaAdminClient
from minio import Minio
from minio.deleteobjects import DeleteObject

from loa.testing.kafka_client import client_options

TOPICS_PER_REQUEST = 500


async def drop_topics(bootstrap: str, prefixes: list[str]) -> int:
    """Delete every topic whose name starts with one of ``prefixes``; returns how many."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(tuple(prefixes))]
        for start in range(0, len(names), TOPICS_PER_REQUEST):
            await admin.delete_topics(names[start : start + TOPICS_PER_REQUEST])
        return len(names)
    finally:
        await admin.close()


def drop_buckets(client: Minio, prefixes: list[str]) -> int:
    """Empty and delete every bucket whose name starts with one of ``prefixes``; returns how many."""

    def drop(bucket: str) -> None:
        objects = [DeleteObject(o.object_name or "") for o in client.list_objects(bucket, recursive=True)]
        for error in client.remove_objects(bucket, objects):
            raise RuntimeError(f"could not delete {error.name} from {bucket}: {error.message}")
        client.remove_bucket(bucket)

    names = [b.name for b in client.list_buckets() if b.name.startswith(tuple(prefixes))]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(drop, names))
    return len(names)


def drop_locked_bucket(client: Minio, bucket: str) -> None:
    """Delete every version of every object of an object-locked bucket (``loa.archive``), then the
    bucket: as MinIO's root, with the governance bypass (``x-amz-bypass-governance-retention``)."""
    if not client.bucket_exists(bucket):
        return
    versions = [
        DeleteObject(o.object_name or "", o.version_id)
        for o in client.list_objects(bucket, recursive=True, include_version=True)
    ]
    for error in client.remove_objects(bucket, versions, bypass_governance_mode=True):
        raise RuntimeError(f"could not delete {error.name} from {bucket}: {error.message}")
    client.remove_bucket(bucket)


def drop_all(bootstrap: str, client: Minio, tags: list[str]) -> None:
    """The topics (``<tag>.``) and buckets (``<tag>-``) of ``tags``; callable from async code too."""
    with ThreadPoolExecutor(1) as own_loop:  # asyncio.run needs a thread without a running loop
        own_loop.submit(asyncio.run, drop_topics(bootstrap, [f"{t}." for t in tags])).result()
    drop_buckets(client, [f"{t}-" for t in tags])
