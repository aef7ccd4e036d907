"""A live ingest service on the real stack, with its own topics, buckets and database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from tests.conftest import Stack
from tests.support.live import serve

MEDIA_CAP = 1024 * 1024
"""Small enough that the oversize cases cost little."""


@dataclass(frozen=True)
class LiveIngest:
    url: str
    settings: IngestSettings
    admin: str
    publisher: str
    uploader: str

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def ingest_settings(stack: Stack, tmp: Path) -> tuple[IngestSettings, dict[str, str]]:
    tag = f"t-{uuid.uuid4().hex[:8]}"
    tokens = {role: f"{role}-{uuid.uuid4().hex}" for role in ("admin", "publisher", "uploader")}
    settings = IngestSettings(
        kafka_bootstrap=stack.kafka_bootstrap,
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,  # type: ignore[arg-type]
        s3_secret_key=stack.s3_secret_key,  # type: ignore[arg-type]
        s3_media_bucket=f"{tag}-media",
        s3_website_bucket=f"{tag}-web",
        database_url=f"sqlite+aiosqlite:///{tmp / 'ingest.db'}",
        # No publisher's job store here: the ingest cannot tell accounts apart and lets them pass
        # (test_ingest_targets.py seeds one); never the developer's own .loa/data stores.
        publisher_database_url=f"sqlite+aiosqlite:///{tmp / 'no-publisher-store.db'}",
        topic_prefix=f"{tag}.",
        ingest_retractions_group=f"loa-ingest-retractions-{tag}",  # one group per test's topics
        api_token=tokens["admin"],  # type: ignore[arg-type]
        ingest_tokens={
            "cms": {"token": tokens["publisher"], "role": "publisher"},
            "scanner": {"token": tokens["uploader"], "role": "uploader"},
        },  # type: ignore[arg-type]
        ingest_max_media_bytes=MEDIA_CAP,
    )
    return settings, tokens


def _live(stack: Stack, tmp: Path) -> Iterator[LiveIngest]:
    settings, tokens = ingest_settings(stack, tmp)
    with serve(create_app(settings)) as url:
        yield LiveIngest(url, settings, tokens["admin"], tokens["publisher"], tokens["uploader"])


@pytest.fixture
def live_ingest(stack: Stack, tmp_path: Path) -> Iterator[LiveIngest]:
    """A fresh ingest for one test."""
    yield from _live(stack, tmp_path)


@pytest.fixture(scope="module")
def module_ingest(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIngest]:
    """One ingest shared by a module's tests (the bad-input table)."""
    yield from _live(stack, tmp_path_factory.mktemp("ingest"))
