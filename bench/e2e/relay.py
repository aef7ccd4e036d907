"""The machine's limit: a bare aiokafka relay on the same broker (consume contents, one status per target).

No job store, no platform, no validation beyond ``json.loads``: the least work any publisher must do.
Run as its own process so its CPU and RSS are measured like the services':

    python -m bench.e2e.relay BOOTSTRAP IN_TOPIC OUT_TOPIC EXPECTED_CONTENTS

Prints one JSON line: ``{"contents", "statuses", "seconds", "statuses_per_s"}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from loa.testing.kafka_client import client_options


async def relay(bootstrap: str, source: str, sink: str, expected: int) -> dict[str, float]:
    consumer = AIOKafkaConsumer(
        source,
        **client_options(bootstrap),
        group_id=f"bare-relay-{source}",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(**client_options(bootstrap), acks="all", enable_idempotence=True, linger_ms=5)
    await consumer.start()
    await producer.start()
    contents = statuses = 0
    started: float | None = None
    try:
        while contents < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            for records in batches.values():
                for record in records:
                    if started is None:
                        started = time.monotonic()
                    event = json.loads(record.value)
                    for target in event["payload"]["targets"]:
                        status = {
                            "content_id": event["payload"]["id"],
                            "channel": target["channel"],
                            "account": target["account"],
                            "state": "published",
                        }
                        await producer.send(sink, json.dumps(status).encode(), key=record.key)
                        statuses += 1
                    contents += 1
        await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()
    seconds = time.monotonic() - (started or time.monotonic())
    return {
        "contents": contents,
        "statuses": statuses,
        "seconds": seconds,
        "statuses_per_s": statuses / seconds,
    }


if __name__ == "__main__":
    bootstrap, source, sink, expected = sys.argv[1:5]
    sys.stdout.write(json.dumps(asyncio.run(relay(bootstrap, source, sink, int(expected)))) + "\n")
