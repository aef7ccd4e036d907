"""The reference publisher's loop: consume ``loa.content.v1``, record in flight, request, record the
answer, produce one status event; one SQLite transaction per step of a batch.

    python -m bench.reference --accounts FILE --database FILE --group GROUP [--client CLIENT]

What it leaves out, so its cost is a floor rather than a rival: only ``content.approved`` (no
updates, retractions, holds, scheduling, urgent lane, commands), no per-account rate limit, no
outbox relay of every state (one status event per delivery, to ``bench.reference.status.v1``), no
metrics or health endpoints. What it keeps: the event contract (pydantic), the webhook adapter's
``render``, its request byte for byte, durability before and after the request, and exactly once
across a crash (a row found in flight is asked for by its key before any new POST).

``--client httpx`` (or ``httpx-threads``: a sync client in each worker thread) makes its requests
with the brief's fixed HTTP client instead of ``http.client``: the floor under that choice
(docs/benchmarks.md, "Session 43: the floor under the brief's HTTP client").
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from bench.reference.context import ReferenceContext
from bench.reference.request import HttpxSender, sender
from bench.reference.store import Answer, Row, Settled, Store
from loa.channels import Account, ChannelError
from loa.events import (
    ContentApproved,
    Delivery,
    DeliveryError,
    DeliveryState,
    DeliveryStatus,
    parse_content_event,
    topics,
)
from loa.kafka_security import client_security
from loa.media import MediaStore
from services.webhook.adapter import WebhookAdapter, encode_body
from services.webhook.settings import WebhookSettings

log = logging.getLogger(__name__)

STATUS_TOPIC = "bench.reference.status.v1"
"""Its own topic (under the run's prefix), so the tracker never counts a reference delivery."""
RETRY_S = 2.0
"""How long a row without an answer (timeout, 5xx) waits before it is asked for again."""
COMMIT_S = 1.0
"""Offsets are committed at most this often: the rows are durable before, and a record given again
after a crash is ignored (its delivery's key is known), so a commit per batch buys nothing."""


class ReferencePublisher:
    def __init__(
        self,
        settings: WebhookSettings,
        accounts: dict[str, Account],
        database: Path,
        group: str,
        workers: int = 8,
        media: MediaStore | None = None,
        client: str = "http.client",
    ) -> None:
        self.settings = settings
        self.accounts = accounts
        self.store = Store(database)
        self.group = group
        self.adapter = WebhookAdapter(ReferenceContext(settings, media), settings)
        self.sender = sender(client, accounts, settings.webhook_timeout_s)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="reference-http")
        self.workers = workers
        self._produced: list[str] = []  # keys whose status event is acked, not yet marked sent
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            **client_security(settings),
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self.settings.topic(topics.CONTENT),
            bootstrap_servers=self.settings.kafka_bootstrap,
            **client_security(self.settings),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await self.producer.start()
        try:
            await self.produce(self.store.unsent())  # answered before a crash, status maybe not sent
            await self.settle_in_flight()  # before any new work: what a crash left in doubt
            await consumer.start()
            try:
                await self._loop(consumer, stop)
            finally:
                await consumer.stop()
        finally:
            await self.producer.stop()
            self.pool.shutdown()
            self.store.sent(self._produced)
            self.store.close()
            await self.adapter.aclose()
            if isinstance(self.sender, HttpxSender):
                await self.sender.aclose()

    async def _loop(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        clock = asyncio.get_running_loop().time
        retry_due = commit_due = clock() + RETRY_S
        uncommitted = False
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            records = [r for rs in batches.values() for r in rs]
            if records:
                new = self.store.begin(await self.rows(records))  # the batch is ours now: durable
                uncommitted = True
                await self.send(new)
            if uncommitted and clock() >= commit_due:
                await consumer.commit()
                uncommitted, commit_due = False, clock() + COMMIT_S
            if clock() >= retry_due:
                await self.settle_in_flight()
                retry_due = clock() + RETRY_S
        if uncommitted:
            await consumer.commit()

    async def rows(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[Row]:
        """A row per webhook target of an account of ours, rendered by the webhook adapter."""
        out = []
        for record in records:
            try:
                event = parse_content_event(record.value)
            except ValueError as e:
                log.warning("skipped an invalid content event: %s", e)
                continue
            if not isinstance(event, ContentApproved):
                continue
            content = event.payload
            for target in content.targets:
                account = self.accounts.get(target.account)
                if target.channel != WebhookAdapter.name or account is None:
                    continue
                try:
                    post = await self.adapter.render(content, target, account)
                except ChannelError as e:
                    log.warning("%s on %s: not rendered: %s", content.id, target.account, e)
                    continue
                document = post.payload["document"]
                out.append(
                    Row(
                        post.marker,
                        content.id,
                        content.version,
                        account.name,
                        str(account.options["url"]),
                        encode_body(document, self._media_urls(document)),
                        content.approved_at.isoformat(),
                    )
                )
        return out

    def _media_urls(self, document: dict[str, list[dict[str, str]]]) -> list[str] | None:
        if not document["media"] or not self.settings.webhook_presign_media:
            return None
        ttl = timedelta(seconds=self.settings.webhook_media_url_ttl_s)
        media = self.adapter.context.media
        return [media.presigned_get(m["key"], ttl) for m in document["media"]]

    async def send(self, rows: list[Row], settle: bool = False) -> None:
        """The requests (``settle``: asked for first), then the answers and statuses."""
        if not rows:
            return
        answers = await self.requests(rows, settle)
        self.store.answer(answers, sent=self._produced)  # one transaction, the last statuses marked too
        self._produced = []
        by_key = {r.key: r for r in rows}
        await self.produce([settled(by_key[a.key], a) for a in answers if a.state != "in_flight"])

    async def requests(self, rows: list[Row], settle: bool) -> list[Answer]:
        """On the event loop (``httpx``): all awaited at once, as the webhook adapter's calls are;
        else in ``workers`` chunks, one thread hop a chunk."""
        if isinstance(self.sender, HttpxSender):
            ask = self.sender.settle if settle else self.sender.publish
            return list(await asyncio.gather(*(ask(row) for row in rows)))
        how = self.sender.settle if settle else self.sender.publish
        loop = asyncio.get_running_loop()
        chunks = [rows[i :: self.workers] for i in range(min(self.workers, len(rows)))]
        done = await asyncio.gather(*(loop.run_in_executor(self.pool, _each, how, chunk) for chunk in chunks))
        return list(itertools.chain.from_iterable(done))

    async def settle_in_flight(self) -> None:
        await self.send(self.store.in_flight(), settle=True)
        if self._produced:  # nothing answered since: mark them on their own
            self.store.sent(self._produced)
            self._produced = []

    async def produce(self, answered: list[Settled]) -> None:
        """One status event per answered row, acked; marked sent in the next transaction (a crash
        before it produces them again: at least once, as Loa's outbox relay)."""
        topic = self.settings.topic(STATUS_TOPIC)
        send = self.producer.send
        futures = [
            await send(topic, status_event(s).model_dump_json().encode(), key=s.content_id.encode())
            for s in answered
        ]
        await asyncio.gather(*futures)
        self._produced += [s.key for s in answered]


def settled(row: Row, a: Answer) -> Settled:
    return Settled(
        row.key, row.content_id, row.version, row.account, a.state, a.external_id, a.public_url, a.error
    )


def _each(how: Callable[[Row], Answer], rows: list[Row]) -> list[Answer]:
    return [how(r) for r in rows]


def status_event(s: Settled) -> DeliveryStatus:
    published = s.state == "published"
    return DeliveryStatus(
        producer="bench.reference",
        payload=Delivery(
            content_id=s.content_id,
            version=s.version,
            channel=WebhookAdapter.name,
            account=s.account,
            state=DeliveryState.PUBLISHED if published else DeliveryState.FAILED,
            attempt=1,
            sequence=1,
            external_id=s.external_id,
            public_url=s.public_url,
            error=None if published else DeliveryError(error_class="permanent", message=s.error or "failed"),
        ),
    )
