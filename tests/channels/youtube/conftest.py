"""Fixtures of the YouTube adapter tests: the sandbox over TLS and an adapter wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.frame import sandbox
from services.youtube.adapter import YouTubeAdapter
from services.youtube.settings import YouTubeSettings
from tests.channels.youtube.support import RecordingContext, TlsSandbox, sandbox_over_tls


@pytest.fixture(scope="module")
def yt_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSandbox]:
    with sandbox_over_tls(tmp_path_factory.mktemp("tls")) as server:
        yield server


@pytest.fixture
def store(settings: LoaSettings) -> MediaStore:
    media = MediaStore(settings)
    media.ensure_buckets()
    return media


@pytest.fixture
def yt_settings(yt_sandbox: TlsSandbox, settings: LoaSettings) -> YouTubeSettings:
    sandbox.reset()
    return YouTubeSettings(
        **settings.model_dump(),
        youtube_api_url=yt_sandbox.url,
        youtube_token_url=f"{yt_sandbox.url}/token",
        youtube_ca_certs=yt_sandbox.tls.ca_pem,
        youtube_chunk_size=256 * 1024,
    )


@pytest.fixture
def make_adapter(
    yt_settings: YouTubeSettings, store: MediaStore
) -> Callable[..., tuple[YouTubeAdapter, RecordingContext]]:
    def make(
        context: RecordingContext | None = None, **overrides: Any
    ) -> tuple[YouTubeAdapter, RecordingContext]:
        context = context or RecordingContext(store)
        settings = yt_settings.model_copy(update=overrides) if overrides else yt_settings
        return YouTubeAdapter(context, settings), context

    return make


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Path:
    return tmp_path
