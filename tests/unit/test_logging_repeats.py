"""The one logging setup rate-limits repeated warnings (aiokafka's reconnect loop while Kafka is down)."""

from __future__ import annotations

import io
import json
import logging

from loa.logging import JsonFormatter, RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _logger(clock: Clock) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatFilter(window=30.0, clock=clock))
    # aiokafka's own logger name and message (aiokafka/conn.py, "Unable connect to node ...")
    logger = logging.getLogger(f"aiokafka.conn.test-{id(out)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    return logger, out


def test_a_flood_of_one_warning_becomes_one_line_per_window_with_the_count() -> None:
    clock = Clock()
    logger, out = _logger(clock)
    for i in range(10_000):
        clock.now = i * 0.001  # 10,000 attempts in 10 s
        logger.warning("Unable connect to %r: %s", "127.0.0.1:9092", "Connect call failed")
    clock.now = 31.0
    logger.warning("Unable connect to %r: %s", "127.0.0.1:9092", "Connect call failed")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    assert "and 9999 more like it" in lines[1]["msg"]


def test_other_warnings_and_debug_lines_are_not_held_back() -> None:
    clock = Clock()
    logger, out = _logger(clock)
    logger.setLevel(logging.DEBUG)
    logger.warning("Không kết nối được tới %s", "kafka")
    logger.warning("Đối tượng %s không có", "minio")
    for _ in range(3):
        logger.debug("poll %d", 1)
    assert len(out.getvalue().splitlines()) == 5
