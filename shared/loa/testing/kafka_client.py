"""Kafka client options for harnesses (tests, benches, drills) that know only a bootstrap address."""

from __future__ import annotations

from typing import Any

from loa.kafka_security import client_security
from loa.settings import LoaSettings


def client_options(bootstrap: str) -> dict[str, Any]:
    """``bootstrap_servers`` and the signing-in options of the environment's identity
    (``LOA_KAFKA_*``; the test harness signs in as the admin, tests/conftest.py)."""
    return {"bootstrap_servers": bootstrap, **client_security(LoaSettings(kafka_bootstrap=bootstrap))}
