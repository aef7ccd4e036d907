"""Every event survives serialise → parse unchanged, and its text is NFC."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings

from loa.events import parse_command, parse_content_event, parse_delivery_status
from tests.support.strategies import commands, content_events, deliveries, hold_commands

pytestmark = pytest.mark.unit


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@settings(max_examples=100, deadline=None)
@given(content_events)
def test_content_events_round_trip(event: object) -> None:
    raw = event.model_dump_json().encode()  # type: ignore[attr-defined]
    assert parse_content_event(raw) == event
    assert all(unicodedata.is_normalized("NFC", s) for s in _strings(json.loads(raw)))


@settings(max_examples=100, deadline=None)
@given(deliveries())
def test_delivery_status_round_trips(event: object) -> None:
    assert parse_delivery_status(event.model_dump_json()) == event  # type: ignore[attr-defined]


@settings(max_examples=100, deadline=None)
@given(commands() | hold_commands())
def test_commands_round_trip(event: object) -> None:
    assert parse_command(event.model_dump_json()) == event  # type: ignore[attr-defined]
