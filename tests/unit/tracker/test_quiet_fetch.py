"""What an idle subscriber of the tracker costs: the broker holds its fetch up to a second (Kafka's
``fetch.max.wait.ms``, kafka.apache.org/documentation/#consumerconfigs; aiokafka's default: 500 ms)
and aiokafka's fetch routine wakes once a second (``consumer_timeout_ms``, default 200 ms), within
the bounds that keep a rewound batch and /metrics' lag read as prompt as before."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from loa import consumer_lag
from loa.events import topics
from services.tracker.consumer import register
from services.tracker.db import make_engine
from services.tracker.live import Changes
from services.tracker.metrics import TrackerMetrics
from services.tracker.settings import RETRY_PAUSE_S, TrackerSettings

pytestmark = pytest.mark.unit

LOW_VOLUME = (topics.COMMANDS, topics.AUDIT, topics.ENGAGEMENT)


class RecordingBroker:
    """Keeps each subscriber's topics and options; ``register`` only declares subscribers."""

    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}
        self.subscribed: list[tuple[str, ...]] = []

    def subscriber(self, *topics: str, **options: Any) -> Callable[[Any], Any]:
        self.subscribed.append(topics)
        for topic in topics:
            self.options[topic] = options
        return lambda handler: handler


def registered(settings: TrackerSettings, tmp_path: Path) -> RecordingBroker:
    broker = RecordingBroker()
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    register(cast(KafkaBroker, broker), settings, engine, Changes(), TrackerMetrics(), ())
    return broker


def subscribed(settings: TrackerSettings, tmp_path: Path) -> dict[str, dict[str, Any]]:
    broker = registered(settings, tmp_path)
    every = (topics.DELIVERY, topics.CONTENT, *LOW_VOLUME)
    return {topic: broker.options[settings.topic(topic)] for topic in every}


def aiokafka_default(name: str) -> int:
    default = inspect.signature(AIOKafkaConsumer).parameters[name].default
    assert isinstance(default, int)
    return default


def test_an_idle_low_volume_topic_is_fetched_once_a_second_not_twice(tmp_path: Path) -> None:
    options = subscribed(TrackerSettings(), tmp_path)
    for topic in LOW_VOLUME:
        wait, wake = options[topic]["fetch_max_wait_ms"], options[topic]["consumer_timeout_ms"]
        assert wait == 1000 > aiokafka_default("fetch_max_wait_ms"), topic
        assert wake == 1000 > aiokafka_default("consumer_timeout_ms"), topic
        assert options[topic].get("fetch_min_bytes", 1) == 1, f"{topic}: a record is answered at once"


def test_the_held_fetch_keeps_retries_metrics_and_requests_as_prompt(tmp_path: Path) -> None:
    wait = subscribed(TrackerSettings(), tmp_path)[topics.COMMANDS]["fetch_max_wait_ms"]
    assert wait <= RETRY_PAUSE_S * 1000, "a rewound batch would wait for the held fetch to end"
    assert wait <= consumer_lag.TIMEOUT_S * 1000 / 2, "/metrics' lag read queues behind the held fetch"
    assert wait < aiokafka_default("request_timeout_ms"), "a held fetch would time out as a failure"


def test_the_fetch_wait_is_the_setting_and_never_past_a_second(tmp_path: Path) -> None:
    """``tracker_fetch_wait_ms`` (the tests' 100 ms: a stop waits for the fetch in flight) reaches
    every subscriber; above a second it is refused by name."""
    options = subscribed(TrackerSettings(tracker_fetch_wait_ms=100), tmp_path)
    assert {topic: o["fetch_max_wait_ms"] for topic, o in options.items()} == dict.fromkeys(options, 100)
    with pytest.raises(ValueError, match="tracker_fetch_wait_ms"):
        TrackerSettings(tracker_fetch_wait_ms=1500)


def test_statuses_and_contents_share_one_subscriber_with_the_quiet_wait(tmp_path: Path) -> None:
    """One fetch loop for both (issue #20): the approvals come in the statuses' batches; its linger
    is a wait after a short batch (``loa.kafka.linger_after``), never a longer hold of the fetch."""
    settings = TrackerSettings(tracker_status_linger_ms=200)
    broker = registered(settings, tmp_path)
    assert (settings.topic(topics.DELIVERY), settings.topic(topics.CONTENT)) in broker.subscribed
    for topic in (topics.DELIVERY, topics.CONTENT):
        options = broker.options[settings.topic(topic)]
        assert options["fetch_max_wait_ms"] == 1000 and options["consumer_timeout_ms"] == 1000
        assert options.get("fetch_min_bytes", 1) == 1, f"{topic}: a record is answered at once"


def test_only_the_topics_nobody_waits_on_sleep_a_second_after_an_empty_fetch(tmp_path: Path) -> None:
    """FastStream sleeps ``batch_timeout_ms`` after a fetch that brought nothing: a second for the
    dead letters of commands, the audit chain and the listener's samples; the statuses and the
    contents an operator watches arrive on the view within the 50 ms they always had."""
    options = subscribed(TrackerSettings(), tmp_path)
    for topic in (topics.COMMANDS, topics.AUDIT, topics.ENGAGEMENT):
        assert options[topic]["batch_timeout_ms"] == 1000, topic
    for topic in (topics.DELIVERY, topics.CONTENT):
        assert options[topic]["batch_timeout_ms"] == 50, topic
