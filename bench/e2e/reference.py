"""The reference publisher in the e2e bench (issue #20 item 1): its own receiver endpoints on the
run's sandbox (``ref-<account>``, the webhook emulator Loa's webhook publisher posts to, with their
own secrets, so neither side's records or duplicate counts mix), its status topic, and how much work
it did, read off its SQLite store."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.e2e.stack import BenchStack
from bench.reference.publisher import STATUS_TOPIC
from bench.reference.store import progress
from loa.kafka_security import client_security
from loa.settings import LoaSettings

REFERENCE_ENDPOINT_PREFIX = "ref-"
"""The reference's receiver endpoints on the sandbox: ``ref-<account>``."""


def seed_endpoints(stack: BenchStack) -> Path:
    """An endpoint per webhook account of the run, and the reference's accounts file (owner only)."""
    entries = {}
    with httpx.Client(base_url=stack.sandbox_url, timeout=30) as http:
        for name in stack.pools["webhook"]:
            secret = secrets.token_urlsafe(24)
            endpoint = f"{REFERENCE_ENDPOINT_PREFIX}{name}"
            http.put(f"/_sandbox/webhook/endpoints/{endpoint}", json={"secret": secret}).raise_for_status()
            entries[name] = {"url": f"{stack.sandbox_url}/webhook/{endpoint}", "secret": secret}
    path = stack.workdir / "reference-accounts.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


async def create_status_topic(settings: LoaSettings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(settings.topic(STATUS_TOPIC), 1, 1)])
    finally:
        await admin.close()


def work_done(stack: BenchStack) -> dict[str, int]:
    """``{"answered", "requests", "answer_batches"}`` so far: deliveries it recorded an answer for,
    HTTP requests made, transactions that recorded answers."""
    return progress(stack.workdir / "reference.db")


def phase_work(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}
