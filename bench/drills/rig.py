"""The drills' rig: a private Kafka/MinIO/PostgreSQL (``loa.testing.private_stack``, free ports, never
the shared stack), the bench's services on it (``bench/e2e/stack.py``: sandbox, tracker, one
publisher per channel, job stores in PostgreSQL), and what every drill does: feed contents, retract
one, SIGKILL or restart publishers, wait until deliveries are final."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from bench.drills.verdict import FINAL, Fed
from bench.e2e.load import content, create_topics, put_sample_media
from bench.e2e.observe import Delivery, TrackerClient
from bench.e2e.stack import CHANNELS, BenchStack, accounts_needed, channel_limits
from loa.events import ContentApproved, ContentRetracted, MediaRef, Retraction, topics, utcnow
from loa.kafka_security import client_security
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing.private_stack import PrivateStack
from services.sandbox.client import SandboxClient

PLANNED_CONTENTS = 80
"""About what the drills feed in all: enough accounts that no per-account bucket defers a post."""
PLANNED_SECONDS = 300.0


def pools() -> dict[str, list[str]]:
    limits = channel_limits()
    return {
        c: [f"{c}-drill-{i}" for i in range(accounts_needed(limits[c], PLANNED_CONTENTS, PLANNED_SECONDS))]
        for c in CHANNELS
    }


@dataclass
class Rig:
    private: PrivateStack
    stack: BenchStack
    settings: LoaSettings
    tracker: TrackerClient
    sandbox: SandboxClient
    media: tuple[MediaRef, MediaRef]
    started_at: datetime = field(default_factory=utcnow)
    fed: dict[str, Fed] = field(default_factory=dict)
    next_number: int = 1

    @classmethod
    async def up(cls, private: PrivateStack, workdir: Path) -> Rig:
        """The bench's services on ``private`` (already started), accounts seeded, topics made."""
        base = private.settings(LoaSettings())
        stack = BenchStack(
            workdir,
            pools(),
            tracker_db="postgresql",
            publisher_db="postgresql",
            base=base,
            pg_admin_url=private.pg_admin_url,
            log_level="INFO",  # the logs of a run that found faults are kept for whoever fixes them
        )
        stack.build()
        settings = base.model_copy(
            update={"topic_prefix": stack.topic_prefix, "s3_media_bucket": stack.media_bucket}
        )
        media = put_sample_media(MediaStore(settings))
        await create_topics(settings, stack.topic_prefix, partitions=3)
        tracker = stack.start_all()
        return cls(private, stack, settings, tracker, SandboxClient(stack.sandbox_url, timeout=30), media)

    async def down(self) -> None:
        await self.tracker.close()
        self.sandbox.close()
        self.stack.stop()

    # ---- contents ---------------------------------------------------------------------------

    async def feed(
        self,
        drill: str,
        count: int,
        rate: float,
        channels: tuple[str, ...] = CHANNELS,
        publish_in: float | None = None,
    ) -> list[Fed]:
        """Send ``count`` approvals at ``rate``/s to one account per channel (round robin);
        ``publish_in``: each is due that many seconds after it is sent."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap, **client_security(self.settings), acks="all"
        )
        await producer.start()
        sent = []
        try:
            for i in range(count):
                n = self.next_number
                self.next_number += 1
                accounts = {c: self.stack.pools[c][n % len(self.stack.pools[c])] for c in channels}
                c = content(n, accounts, *self.media)
                if publish_in is not None:
                    c = c.model_copy(update={"publish_at": utcnow() + timedelta(seconds=publish_in)})
                event = ContentApproved(payload=c)
                await producer.send_and_wait(
                    self.settings.topic(topics.CONTENT), event.model_dump_json().encode(), key=c.id.encode()
                )
                fed = Fed(c.id, drill, channels, c.publish_at)
                self.fed[c.id] = fed
                sent.append(fed)
                if i + 1 < count:
                    await asyncio.sleep(1 / rate)
        finally:
            await producer.stop()
        return sent

    async def retract(self, fed: Fed) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap, **client_security(self.settings), acks="all"
        )
        await producer.start()
        try:
            event = ContentRetracted(
                payload=Retraction(
                    id=fed.content_id, reason="Thu hồi: sai số liệu", requested_by="Trần Văn Đức"
                )
            )
            await producer.send_and_wait(
                self.settings.topic(topics.CONTENT),
                event.model_dump_json().encode(),
                key=fed.content_id.encode(),
            )
        finally:
            await producer.stop()
        self.fed[fed.content_id] = Fed(
            fed.content_id, fed.drill, fed.channels, fed.publish_at, retracted=True
        )

    # ---- reading --------------------------------------------------------------------------------

    async def deliveries(self) -> list[Delivery]:
        """Every delivery of the run, as the tracker has it."""
        return await self.tracker.deliveries(self.started_at, utcnow() + timedelta(hours=1))

    async def state_of(self, content_id: str, channel: str) -> str | None:
        for d in await self.deliveries():
            if (d.content_id, d.channel) == (content_id, channel):
                return d.state
        return None

    async def until_final(self, fed: list[Fed], limit: float) -> tuple[float | None, list[str]]:
        """Seconds until every delivery of ``fed`` is final in the tracker (None: not within ``limit``
        s), and the ones still not final then (``content channel: state``)."""
        started = time.monotonic()
        wanted = {(f.content_id, c) for f in fed for c in f.channels}
        pending = [f"{c} {ch}: unknown" for c, ch in sorted(wanted)]
        while time.monotonic() - started < limit:
            try:
                states = {(d.content_id, d.channel): d.state for d in await self.deliveries()}
            except (httpx.HTTPError, KeyError):  # the tracker may be down or busy during a fault
                states = {}
            pending = [
                f"{c} {ch}: {states.get((c, ch), 'unknown')}"
                for c, ch in sorted(wanted)
                if states.get((c, ch)) not in FINAL
            ]
            if not pending:
                return time.monotonic() - started, []
            await asyncio.sleep(1.0)
        return None, pending

    # ---- processes --------------------------------------------------------------------------------

    def publisher_pid(self, channel: str) -> int:
        proc = self.stack.services[channel].proc
        assert proc is not None
        return proc.pid

    def kill(self, channel: str) -> None:
        """SIGKILL the channel's publisher and start a new one at once (what a supervisor does)."""
        service = self.stack.services[channel]
        service.sigkill()
        service.start()

    def publishers_down(self) -> None:
        """SIGTERM every publisher (a deploy, a host reboot)."""
        for channel in CHANNELS:
            self.stack.services[channel].stop()

    def publishers_up(self) -> None:
        for channel in CHANNELS:
            self.stack.services[channel].start()
