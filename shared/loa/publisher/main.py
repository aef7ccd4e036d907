"""Run one channel's publisher: ``run(AdapterClass, settings)`` or ``loa-publisher <channel>``.

One process holds: the Kafka intake (content events and ops commands), the dispatcher, the
outbox relay and a small HTTP server for ``/livez``, ``/readyz`` (alias ``/healthz``) and
``/metrics``. SIGTERM/SIGINT stop intake first, let in-flight platform calls finish (or release
them), then drain the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from loa import logging as loa_logging
from loa.channels import ChannelAdapter
from loa.consumer_lag import assigned_nothing, uncommitted, unread
from loa.events import topics
from loa.events.commands import (
    Command,
    HoldPublishing,
    ModerateComment,
    ReleaseDelivery,
    ReleasePublishing,
    RemoveAccount,
    ReplyToComment,
    RescheduleDelivery,
    SetAccount,
)
from loa.events.parsing import parse_command, parse_content_record
from loa.health import NotReadyError, Probe, Readiness, database_probe, kafka_probe, object_store_probe
from loa.kafka import (
    linger_after,
    make_broker,
    parse_records,
    records_of,
    settle_refusals,
)
from loa.kafka_acl import publisher_group
from loa.mode import mode_gauge, targets
from loa.publisher.accounts import AccountStore, load_cipher
from loa.publisher.comment_actions import Backoff, CommentActionRunner
from loa.publisher.context import RuntimeContext
from loa.publisher.dispatcher import Dispatcher
from loa.publisher.holds import Holds
from loa.publisher.intake import Intake
from loa.publisher.intake_gate import IntakeGate
from loa.publisher.metrics import RuntimeMetrics, http_app
from loa.publisher.pullback import PullBacks
from loa.publisher.relay import OutboxRelay
from loa.publisher.reschedule import Rescheduler
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.serving import freeze_startup_heap

log = logging.getLogger(__name__)

NACK_PAUSE_SECONDS = 1.0
BATCH_MAX = 50
"""Content messages taken in per transaction at most. A batch is a burst of memory (every content
parsed, rendered and written before the commit): with a backlog in Kafka, 200 a batch made the
webhook publisher alone peak at 133.8–134.5 MB, 50 at 126.6–127.6 MB, at no more CPU a delivery
(2.82–3.15 ms against 3.22–3.32: a transaction's and an offset commit's cost is spread thin well
before 50), and in the whole pipeline's overload each publisher peaked 5 MB lower
(docs/benchmarks.md, "Session 40"). It also bounds what an urgent content waits behind."""
BATCH_WAIT_MS = 250
"""How long a poll waits for a first message; FastStream sleeps as long again when none came, so a
content after a quiet spell of this long waits up to this long more. A message that comes during
the poll is taken at once, and in a stream (intake lingers ``publisher_intake_linger_ms`` after each
batch) the poll is never empty. At 20 ms an idle publisher polled 25 times a second, ~8 ms of CPU a
second for nothing (issue #20, docs/benchmarks.md "Session 33")."""
COMMANDS_CATCH_UP_SECONDS = 15.0
"""At start, how long the dispatcher waits at most for the commands group to read what is there."""


class Publisher:
    """Everything one channel publisher runs; ``start``/``stop`` for tests, ``serve`` for the process."""

    def __init__(self, adapter_cls: type[ChannelAdapter], settings: PublisherSettings) -> None:
        self.settings = settings
        self.channel = adapter_cls.name
        self.group = settings.group(publisher_group(self.channel))
        self.engine = make_engine(settings.job_store_url(self.channel))
        self.store = JobStore(self.engine, self.channel)
        self.accounts = AccountStore(self.engine, self.channel, load_cipher(settings))
        self.metrics = RuntimeMetrics(self.channel)
        mode_gauge(self.metrics.registry, settings.mode)
        self.context = RuntimeContext(settings, self.store, self.accounts)
        self.adapter = adapter_cls(self.context, settings)
        self.dispatcher = Dispatcher(self.adapter, self.store, self.accounts, settings, self.metrics)
        self.relay = OutboxRelay(self.store, settings, self.metrics)
        self.pull_backs = PullBacks(self.adapter, self.store, self.accounts)
        self.holds = Holds(self.store, on_due=self.dispatcher.wake.set, on_held=self.pull_backs.wake.set)
        self.rescheduler = Rescheduler(self.store, on_due=self.dispatcher.wake.set)
        self.intake = Intake(
            self.adapter, self.store, self.accounts, on_due=self.dispatcher.wake.set, holds=self.holds
        )
        backoff = Backoff(settings.publisher_backoff_base_seconds, settings.publisher_backoff_cap_seconds)
        self.comment_actions = CommentActionRunner(
            self.adapter,
            self.store,
            self.accounts,
            backoff,
            owner=self.dispatcher.owner,
            lease=self.dispatcher.lease,
        )
        self.broker = self._make_broker()
        self.gate = IntakeGate(
            settings.publisher_intake_backlog,
            self.store.count_due,
            lambda: self._content_subscriber.consumer,
            self.metrics,
        )
        self.port: int | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._server: uvicorn.Server | None = None
        self._stopped = False

    # ---- Kafka intake -------------------------------------------------------------------------

    def _make_broker(self) -> KafkaBroker:
        broker = make_broker(self.settings, client_id=self.group)
        content_topic = self.settings.topic(topics.CONTENT)
        commands_topic = self.settings.topic(topics.COMMANDS)
        common: dict[str, Any] = {
            "group_id": self.group,
            "ack_policy": AckPolicy.MANUAL,
            "auto_offset_reset": "earliest",
            "session_timeout_ms": 10_000,
            "heartbeat_interval_ms": 2_000,
            "fetch_max_wait_ms": self.settings.publisher_fetch_wait_ms,
            # aiokafka's fetch routine wakes this often (default 200 ms) when nothing it waits on (an
            # answer, a seek, a rebalance) happened: idle work only, as in the tracker's quiet_fetch.
            "consumer_timeout_ms": 1000,
        }

        # A batch per poll: one job-store transaction for all of it, then one offset commit.
        self._content_subscriber = broker.subscriber(
            content_topic, batch=True, max_records=BATCH_MAX, batch_timeout_ms=BATCH_WAIT_MS, **common
        )

        @self._content_subscriber  # type: ignore[untyped-decorator]
        async def on_content(msg: KafkaMessage) -> None:
            await self._handle_batch(msg, content_topic)

        # A group of its own: aiokafka refuses one group whose members subscribe to different topics.
        commands = {**common, "group_id": f"{self.group}-commands"}

        self._commands_subscriber = broker.subscriber(commands_topic, **commands)

        @self._commands_subscriber  # type: ignore[untyped-decorator]
        async def on_command(msg: KafkaMessage) -> None:
            await self._handle(msg, commands_topic, self._command)

        return broker

    async def _handle(self, msg: KafkaMessage, topic: str, apply: Any) -> None:
        """Apply one command, then commit its offset; invalid → skipped; a failure → it comes again."""
        try:
            commands, refused = parse_records(records_of(msg), _command_of)
            for command in commands:
                await apply(command)
            # Each publisher's commands group reads every command: the tracker's commands group
            # writes the one dead letter of a bad one (services/tracker/consumer.py).
            await settle_refusals(self.broker, refused, owner=False)
        except Exception:
            log.exception("could not take in a message from %s; it will come again", topic)
            await msg.nack()
            await asyncio.sleep(NACK_PAUSE_SECONDS)
            return
        await msg.ack()

    async def _handle_batch(self, msg: KafkaMessage, topic: str) -> None:
        """Take in a batch of content events, then commit its offsets; refused ones are skipped.

        The tracker's group owns the content topic's dead letters (one copy per bad message, not
        one per consumer group): a publisher logs what it refuses and goes on. A failure rewinds
        to the batch's first message: all of it comes again (the unique key makes what was
        already written a no-op).
        """
        async with self.gate.lock:
            if self.gate.closed:
                await self._look_ahead(msg)
                return
            try:
                events, refused = parse_records(records_of(msg), parse_content_record)
                await self.intake.take_in([event.payload for event in events])
                await settle_refusals(self.broker, refused, owner=False)
            except Exception:
                log.exception(
                    "could not take in %d message(s) from %s; they will come again",
                    len(records_of(msg)),
                    topic,
                )
                await msg.nack()
                await asyncio.sleep(NACK_PAUSE_SECONDS)
                return
            await msg.ack()
            await self.gate.check()
        # LOA_PUBLISHER_INTAKE_LINGER_MS: at 30 contents/s a batch of one content each paid intake,
        # claim, answer and relay rounds alone (docs/benchmarks.md, "The webhook publisher alone")
        await linger_after(len(records_of(msg)), BATCH_MAX, self.settings.publisher_intake_linger_ms)

    async def _look_ahead(self, msg: KafkaMessage) -> None:
        """The gate is closed: take in what jumps the queue; the rest stays in Kafka (no commit)."""
        records = records_of(msg)
        taken = self.gate.look_ahead(records)
        try:
            await self.intake.take_in(taken)
        except Exception:
            log.exception("could not take in urgent work read ahead; it will come again")
            self.gate.leave_waiting(records, taken)
        await self.gate.stall_if_full()

    async def _command(self, command: Command) -> None:
        if isinstance(command, HoldPublishing | ReleasePublishing):
            await self.holds.apply(command)
        elif isinstance(command, ReleaseDelivery):
            await self.holds.release_delivery(command)
        elif isinstance(command, RescheduleDelivery):
            await self.rescheduler.apply(command)
        elif isinstance(command, SetAccount | RemoveAccount):
            await self.accounts.apply(command)
        elif isinstance(command, ReplyToComment | ModerateComment):
            await self.comment_actions.apply(command)
        else:
            await self.intake.command(command)

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await migrate(self.engine)
        await self.accounts.seal_legacy()
        if self.settings.accounts_file:
            changed = await self.accounts.seed(self.settings.accounts_file)
            log.info("seeded %d account(s) from %s", changed, self.settings.accounts_file)
        await self._start_http()
        self._tasks = [  # (the http task is not awaited on stop: should_exit ends it)
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(self._gauges(), name="gauges"),
            asyncio.create_task(self.gate.run(), name="intake-gate"),
        ]
        await self.broker.start()
        await self._commands_caught_up()
        self._tasks.append(asyncio.create_task(self.pull_backs.run(), name="pull-backs"))
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="dispatcher"))
        log.info("publisher %s started (metrics on port %s)", self.channel, self.port)

    async def _commands_caught_up(self) -> None:
        """Wait until the commands group has applied every command Kafka holds (a hold issued while
        this publisher was down, or before it first started), so the dispatcher claims nothing a
        hold covers. Holds it already knew are in its job store; this is for the ones it missed.

        A replica the group gave no commands partition has nothing to catch up: the replica that
        holds them applies the holds to the job store they share, so it dispatches at once."""
        deadline = time.monotonic() + COMMANDS_CATCH_UP_SECONDS
        while time.monotonic() < deadline:
            consumer = self._commands_subscriber.consumer
            try:
                if assigned_nothing(consumer) or await uncommitted(consumer) == 0:
                    return
            except Exception:
                log.debug("reading the commands group's lag failed", exc_info=True)
            await asyncio.sleep(0.1)
        log.warning(
            "the commands group did not catch up within %.0f s; dispatching anyway "
            "(a hold it has not read yet applies when it does)",
            COMMANDS_CATCH_UP_SECONDS,
        )

    async def stop(self) -> None:
        """Graceful: no new intake, in-flight calls finish or are released, the outbox drains."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.dispatcher.stop(self.settings.publisher_shutdown_grace_seconds)
        await self.relay.stop()
        for task in self._tasks:
            if task.get_name() not in ("dispatcher", "outbox-relay", "http"):
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=self.settings.publisher_shutdown_grace_seconds)
        if self._server is not None:
            self._server.should_exit = True
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.adapter.aclose()
        await self.engine.dispose()
        log.info("publisher %s stopped", self.channel)

    async def _start_http(self) -> None:
        config = uvicorn.Config(
            http_app(self.metrics, self.readiness()),
            host=self.settings.publisher_host,
            port=self.settings.metrics_port(self.adapter.metrics_port),
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = _Server(config)
        self._tasks.append(asyncio.create_task(self._server.serve(), name="http"))
        while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    def readiness(self) -> Readiness:
        """Kafka, the job store, the object store (channels that carry media) and the dispatcher."""
        probes: dict[str, Probe] = {
            "kafka": kafka_probe(self.settings),
            "database": database_probe(self.engine),
        }
        if self.adapter.limits.media_types:
            media = self.context.media
            probes["object_store"] = object_store_probe(media.client, media.bucket)
        probes["dispatcher"] = self._dispatcher_probe
        return Readiness(probes, about={"mode": self.settings.mode, "targets": targets(self.settings)})

    async def _dispatcher_probe(self) -> None:
        idle = time.monotonic() - self.dispatcher.last_tick
        if idle > max(30.0, self.settings.publisher_poll_seconds * 10):
            raise NotReadyError(f"stalled for {idle:.0f} s")

    async def _gauges(self) -> None:
        while True:
            try:
                self.metrics.set_job_counts(await self.store.counts_by_state())
                # While the gate is closed, read-ahead moves the position past what waits in Kafka.
                lag = await (uncommitted if self.gate.closed else unread)(self._content_subscriber.consumer)
                if lag is not None:
                    self.metrics.consumer_lag.set(lag)
            except Exception:
                log.debug("updating gauges failed", exc_info=True)
            await asyncio.sleep(self.settings.publisher_gauge_seconds)

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        freeze_startup_heap()
        await stop.wait()
        log.info("signal received: stopping")
        await self.stop()


def _command_of(record: ConsumerRecord[Any, Any]) -> Command:
    return parse_command(record.value or b"")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the publisher handles SIGTERM/SIGINT itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run(adapter_cls: type[ChannelAdapter], settings: PublisherSettings) -> None:
    """The whole of a channel service's ``__main__``: ``run(Adapter, Settings())``."""
    loa_logging.configure(settings.log_level)
    import uvloop  # a cheaper event loop than asyncio's own (aiokafka and httpx run on it)

    # The SDKs (facebook-sdk, tweepy, google-api-python-client, minio) block: each platform call
    # runs in a worker thread. asyncio's default pool has cpu_count + 4 threads (6 on 2 cores),
    # which would silently cap the deliveries in flight below ``publisher_concurrency``.
    workers = ThreadPoolExecutor(settings.publisher_concurrency + 4, thread_name_prefix="platform-call")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.get_loop().set_default_executor(workers)
        runner.run(Publisher(adapter_cls, settings).serve())


def main(argv: list[str] | None = None) -> None:
    """``loa-publisher <channel>``: run a channel registered by its ``loa.channels`` entry point."""
    from loa.publisher.discovery import load_channel

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write("usage: loa-publisher CHANNEL\n")
        raise SystemExit(2)
    adapter_cls, settings_cls = load_channel(args[0])
    run(adapter_cls, settings_cls())
