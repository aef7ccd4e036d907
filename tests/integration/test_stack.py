"""The local stack is real: Kafka delivers, MinIO streams 200 MB intact, PostgreSQL keeps Vietnamese text."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import resource
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from sqlalchemy import Column, Integer, MetaData, Table, Text, select
from sqlalchemy.ext.asyncio import create_async_engine

from loa.kafka_security import broker_security, client_security
from loa.media import MediaStore
from loa.settings import LoaSettings

pytestmark = pytest.mark.integration

VIETNAMESE = "Đồng chí Bộ trưởng chủ trì hội nghị trực tuyến toàn quốc về chuyển đổi số — Hà Nội, Đà Nẵng"


async def test_faststream_subscriber_receives_what_an_idempotent_aiokafka_producer_sent(
    settings: LoaSettings, kafka_admin: AIOKafkaAdminClient
) -> None:
    topic = settings.topic("loa.smoke.v1")
    await kafka_admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    sent = {f"content-{i}": f"{VIETNAMESE} #{i}" for i in range(6)}
    received: dict[str, str] = {}
    all_received = asyncio.Event()

    broker = KafkaBroker(settings.kafka_bootstrap, security=broker_security(settings))

    @broker.subscriber(topic, group_id=f"{topic}-group", auto_offset_reset="earliest")
    async def handle(body: dict[str, str]) -> None:
        received[body["id"]] = body["title"]
        if len(received) == len(sent):
            all_received.set()

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        acks="all",
        enable_idempotence=True,
    )
    await producer.start()
    try:
        for key, title in sent.items():
            payload = f'{{"id": "{key}", "title": "{title}"}}'.encode()
            metadata = await producer.send_and_wait(topic, payload, key=key.encode())
            assert metadata.offset >= 0
    finally:
        await producer.stop()

    async with broker:
        await broker.start()
        await asyncio.wait_for(all_received.wait(), timeout=60)
    assert received == sent


class RandomStream(io.RawIOBase):
    """``size`` random bytes generated as they are read, hashed on the way; never held whole."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.remaining)
        data = os.urandom(n)
        buffer[:n] = data
        self.remaining -= n
        self.hash.update(data)
        return n


def test_200_mb_object_streams_into_and_out_of_minio_with_its_checksum(
    settings: LoaSettings, unique: Callable[[str], str]
) -> None:
    size = 200 * 1024 * 1024
    store = MediaStore(settings)
    store.ensure_buckets()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    try:
        source = RandomStream(size)
        stored = store.put_stream(io.BufferedReader(source, 1024 * 1024), "video/mp4", size=size)
        assert stored.size == size
        assert stored.sha256 == source.hash.hexdigest()
        assert stored.key == f"sha256/{stored.sha256}"

        readback = hashlib.sha256()
        total = 0
        for chunk in store.iter_bytes(stored.key):
            readback.update(chunk)
            total += len(chunk)
        assert total == size
        assert readback.hexdigest() == stored.sha256
        store.verify(stored.key, stored.sha256, size)
    finally:
        for bucket in (store.bucket, store.website_bucket):
            for obj in store.client.list_objects(bucket, recursive=True):
                store.client.remove_object(bucket, obj.object_name or "")
            store.client.remove_bucket(bucket)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 120, f"peak memory grew by {grown_mib:.0f} MiB: the object was buffered"


async def test_postgresql_round_trips_a_row_of_vietnamese_text(pg_url: str) -> None:
    metadata = MetaData()
    notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("body", Text))
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(notes.insert().values(id=1, body=VIETNAMESE))
        async with engine.connect() as conn:
            body = (await conn.execute(select(notes.c.body).where(notes.c.id == 1))).scalar_one()
            encoding = (await conn.exec_driver_sql("SHOW server_encoding")).scalar_one()
    finally:
        await engine.dispose()
    assert body == VIETNAMESE
    assert encoding == "UTF8"
