"""What a closed intake gate takes in while it reads ahead, and where the rest waits in Kafka
(``loa.publisher.intake_gate``; on real Kafka: tests/integration/publisher/test_intake_gate.py)."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from loa.events import Content, ContentApproved, ContentRetracted, Priority, Retraction, Target, utcnow
from loa.events.envelope import Envelope
from loa.publisher.intake_gate import CHECK_SECONDS, IntakeGate
from loa.publisher.metrics import RuntimeMetrics

pytestmark = pytest.mark.unit
TOPIC = "loa.content.v1"


def _content(cid: str, priority: Priority = Priority.NORMAL) -> ContentApproved:
    return ContentApproved(
        payload=Content(
            id=cid,
            version=1,
            title="Đính chính thông tin về dịch bệnh tại Điện Biên",
            unit="Văn phòng Bộ",
            approved_by="Nguyễn Thị Đào",
            approved_at=utcnow(),
            targets=[Target(channel="website", account="main")],
            priority=priority,
        )
    )


def _retraction(cid: str) -> ContentRetracted:
    return ContentRetracted(payload=Retraction(id=cid, reason="Sai số liệu", requested_by="Trần Văn Đức"))


def _record(
    partition: int, offset: int, event: Envelope | None, key: str = ""
) -> ConsumerRecord[bytes, bytes]:
    value = event.model_dump_json().encode() if event is not None else b"{not json"
    cid = event.payload.id if event is not None else key  # type: ignore[attr-defined]
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, cid.encode(), value, None, 0, len(value), ())


def _gate() -> IntakeGate:
    async def no_backlog() -> int:
        return 0

    return IntakeGate(10, no_backlog, lambda: None, RuntimeMetrics("webhook"))


def test_reading_ahead_takes_urgent_work_and_leaves_the_rest_from_its_first_record_on() -> None:
    gate = _gate()
    records = [
        _record(0, 7, _content("lich-tiep-dan")),
        _record(0, 8, _content("canh-bao-lu", Priority.URGENT)),
        _record(1, 3, _retraction("bai-cu")),
        _record(1, 4, None, key="hong"),  # refused: read again (and skipped) once the gate opens
        _record(1, 5, _content("so-tan-dan", Priority.URGENT)),
    ]
    taken = gate.look_ahead(records)
    assert [c.id for c in taken] == ["canh-bao-lu", "bai-cu", "so-tan-dan"]
    assert gate.waiting == {TopicPartition(TOPIC, 0): 7, TopicPartition(TOPIC, 1): 4}


def test_no_event_overtakes_an_earlier_event_of_its_content_left_waiting() -> None:
    gate = _gate()
    assert gate.look_ahead([_record(2, 10, _content("thong-cao-so-5"))]) == []
    later = gate.look_ahead(
        [
            _record(2, 11, _retraction("thong-cao-so-5")),  # its approval waits: so does it
            _record(2, 12, _content("thong-cao-so-5", Priority.URGENT)),
            _record(0, 1, _content("khan-cap", Priority.URGENT)),
        ]
    )
    assert [c.id for c in later] == ["khan-cap"]
    assert gate.waiting == {TopicPartition(TOPIC, 2): 10}


def test_urgent_work_that_could_not_be_taken_in_waits_with_the_rest() -> None:
    """Taking in what was read ahead failed (the store was down): every record of the batch comes
    again on opening, from each partition's first — the urgent one's partition included — and no
    later event of the urgent content overtakes it meanwhile."""
    gate = _gate()
    records = [
        _record(0, 20, _content("lich-hop-bao-chi")),
        _record(1, 6, _content("canh-bao-bao-so-3", Priority.URGENT)),
    ]
    taken = gate.look_ahead(records)
    assert [c.id for c in taken] == ["canh-bao-bao-so-3"]
    gate.leave_waiting(records, taken)
    assert gate.waiting == {TopicPartition(TOPIC, 0): 20, TopicPartition(TOPIC, 1): 6}
    assert gate.look_ahead([_record(1, 7, _retraction("canh-bao-bao-so-3"))]) == []
    assert gate.waiting[TopicPartition(TOPIC, 1)] == 6


async def test_the_gate_closes_over_the_limit_and_opens_at_half_of_it_seeking_back() -> None:
    due = [11]

    async def count() -> int:
        return due[0]

    class Consumer:
        sought: dict[TopicPartition, int] = {}

        def assignment(self) -> set[TopicPartition]:
            return {TopicPartition(TOPIC, 0)}  # partition 1 went to another member: not sought

        def seek(self, tp: TopicPartition, offset: int) -> None:
            self.sought[tp] = offset

    consumer = Consumer()
    metrics = RuntimeMetrics("webhook")
    gate = IntakeGate(10, count, lambda: consumer, metrics)
    await gate.check()
    assert gate.closed and metrics.intake_waiting._value.get() == 1
    gate.look_ahead([_record(0, 5, _content("a")), _record(1, 9, _content("b"))])
    due[0] = 6  # over half the limit: still closed
    assert not await _opens(gate)
    due[0] = 5
    assert await _opens(gate)
    assert consumer.sought == {TopicPartition(TOPIC, 0): 5}
    assert gate.waiting == {} and metrics.intake_waiting._value.get() == 0


async def _opens(gate: IntakeGate) -> bool:
    """One round of the gate's loop (it counts every ``CHECK_SECONDS``)."""
    task = asyncio.create_task(gate.run())
    await asyncio.sleep(CHECK_SECONDS * 1.2)
    task.cancel()
    return not gate.closed
