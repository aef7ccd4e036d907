"""A relay's round, as both outbox relays send it (``RenewedProducer.send_in_order``): the rows
reach their partition in the rows' order, and a row Kafka refuses as too large, at the producer or
at the broker, is named and holds back nothing after it (the broker's refusal breaks the idempotent
producer's sequence for the partition: what follows goes again, with a new producer)."""

from __future__ import annotations

import pytest

from loa.events import topics
from loa.kafka import OutboxRecord, RenewedProducer
from loa.settings import LoaSettings
from tests.support.kafka import BROKER_MESSAGE_MAX_BYTES, read_topic

pytestmark = pytest.mark.integration

ROWS = 300
PAST_THE_BROKER = 100
"""Under the producer's limit (set to twice the broker's, a misconfiguration) but over the broker's:
refused when the acknowledgement comes."""
PAST_THE_PRODUCER = 200
"""Over the producer's limit too: refused by ``send`` itself."""


def _value(i: int) -> bytes:
    """Mostly small rows, every seventh larger than a producer batch (aiokafka's ``batch_size``,
    16 KiB, so it waits for the batch before it to drain): a round of both sizes keeps its order."""
    words = "thông tin sai lệch, Đài phát thanh đính chính " * (500 if i % 7 == 0 else 1)
    return f"Đính chính lần {i}: {words}".encode()


def _producer(settings: LoaSettings) -> RenewedProducer:
    """A relay's producer whose limit is twice the broker's (the misconfiguration both relays guard
    against): a row between the two is refused by the broker, not by ``send``."""
    return RenewedProducer(
        settings.model_copy(update={"kafka_max_message_bytes": 2 * BROKER_MESSAGE_MAX_BYTES})
    )


def _row(settings: LoaSettings, value: bytes) -> OutboxRecord:
    return OutboxRecord(settings.topic(topics.PAYLOAD), b"thong-cao-bao-chi", value)


async def test_a_round_keeps_its_order_and_names_what_kafka_refuses(settings: LoaSettings) -> None:
    records = [_row(settings, _value(i)) for i in range(ROWS)]
    records[PAST_THE_BROKER] = _row(settings, b"x" * (BROKER_MESSAGE_MAX_BYTES + 10))
    records[PAST_THE_PRODUCER] = _row(settings, b"x" * (3 * BROKER_MESSAGE_MAX_BYTES))
    producer = _producer(settings)
    refused: list[int] = []
    settled = rounds = 0
    try:
        while settled < ROWS and rounds < 5:  # as a relay does: the rows not settled go next round
            sent = await producer.send_in_order(records[settled:])
            refused += [settled + i for i in sorted(sent.refused)]
            settled += sent.settled
            rounds += 1
    finally:
        await producer.drop()

    assert refused == [PAST_THE_BROKER, PAST_THE_PRODUCER]
    # The broker's refusal left the producer's sequence for the partition out of step: the round
    # stopped there, and the rows after it went with a new producer.
    assert rounds == 2
    on_topic = await read_topic(settings.kafka_bootstrap, settings.topic(topics.PAYLOAD), ROWS - 2)
    expected = [r.value for i, r in enumerate(records) if i not in (PAST_THE_BROKER, PAST_THE_PRODUCER)]
    assert [r.value for r in on_topic] == expected  # one key, one partition: the rows' order


async def test_a_round_that_ends_on_a_refusal_by_the_broker_leaves_the_next_round_whole(
    settings: LoaSettings,
) -> None:
    """The refused row is the round's last: nothing is cut, but the producer's sequence for the
    partition is out of step all the same, so the next round needs a new producer."""
    producer = _producer(settings)
    try:
        first = await producer.send_in_order(
            [_row(settings, _value(1)), _row(settings, b"x" * (BROKER_MESSAGE_MAX_BYTES + 10))]
        )
        second = await producer.send_in_order([_row(settings, _value(2)), _row(settings, _value(3))])
    finally:
        await producer.drop()

    assert (first.settled, sorted(first.refused)) == (2, [1])
    assert (second.settled, second.refused) == (2, {})
    on_topic = await read_topic(settings.kafka_bootstrap, settings.topic(topics.PAYLOAD), 3)
    assert [r.value for r in on_topic] == [_value(1), _value(2), _value(3)]
