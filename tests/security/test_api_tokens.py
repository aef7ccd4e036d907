"""Tokens shorter than 32 characters are refused at start, and the refusal never shows them."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from loa.settings import LoaSettings
from services.ingest.settings import IngestSettings
from services.tracker.settings import TrackerSettings

pytestmark = pytest.mark.unit
SHORT = "short-but-secret-0123456789abcd"  # 31 characters
LONG = "long-enough-secret-0123456789abcd"  # 33 characters


def test_a_short_admin_token_is_refused_by_name_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(SHORT) == 31
    monkeypatch.setenv("LOA_API_TOKEN", SHORT)
    with pytest.raises(ValidationError) as refused:
        LoaSettings()
    message = str(refused.value)
    assert "LOA_API_TOKEN must be at least 32 characters" in message
    assert SHORT not in message
    # no admin token at all, or a long one, still starts
    monkeypatch.setenv("LOA_API_TOKEN", "")
    assert LoaSettings().api_token.get_secret_value() == ""
    monkeypatch.setenv("LOA_API_TOKEN", LONG)
    assert LoaSettings().api_token.get_secret_value() == LONG


@pytest.mark.parametrize(
    ("settings_class", "variable", "role"),
    [(TrackerSettings, "LOA_TRACKER_TOKENS", "viewer"), (IngestSettings, "LOA_INGEST_TOKENS", "publisher")],
)
def test_a_short_client_token_is_refused_by_name_without_its_value(
    monkeypatch: pytest.MonkeyPatch, settings_class: type[LoaSettings], variable: str, role: str
) -> None:
    monkeypatch.setenv(variable, json.dumps({"lan": {"token": SHORT, "role": role}}))
    with pytest.raises(ValidationError) as refused:
        settings_class()
    message = str(refused.value)
    assert f"{variable.removeprefix('LOA_').lower()}.lan.token" in message
    assert f"a token of {variable} must be at least 32 characters" in message
    assert SHORT not in message
    monkeypatch.setenv(variable, json.dumps({"lan": {"token": LONG, "role": role}}))
    settings_class()
