"""The shared adapter contract, run on the YouTube adapter against the emulator over TLS (real MinIO).

The YouTube-only behaviour (resume after a crash, quota, native scheduling, the marker search)
is in ``test_youtube_upload.py`` and ``test_youtube_manage.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from loa.channels import Account, ChannelAdapter, Context
from loa.events import Content, MediaRef
from loa.media import MediaStore
from loa.testing import FakeContext
from loa.testing.adapter_contract import LATE_MS, REQUEST_TIMEOUT_S, AdapterContract
from services.sandbox.frame import Fault, sandbox
from services.sandbox.youtube import error_body
from services.sandbox.youtube_state import channel_of, state
from services.youtube.adapter import YouTubeAdapter
from services.youtube.settings import YouTubeSettings
from tests.channels.youtube.support import account, put_image, put_video

pytestmark = pytest.mark.integration
UPLOAD_PATH = "/upload/youtube/v3/videos"


class TestYouTubeContract(AdapterContract):
    @pytest.fixture(autouse=True)
    def _platform(self, yt_settings: YouTubeSettings, store: MediaStore) -> None:
        """A reset emulator and a small video (one upload chunk: its PUT makes the video) and its
        thumbnail image in MinIO for each test."""
        self.settings = yt_settings.model_copy(update={"youtube_timeout_s": REQUEST_TIMEOUT_S})
        self.store = store
        self.media: list[MediaRef] = [put_video(store, 250_000), put_image(store)]

    def make_context(self) -> Context:
        return FakeContext(media=self.store)

    def make_adapter(self, context: Context) -> ChannelAdapter:
        return YouTubeAdapter(context, self.settings)

    def make_account(self) -> Account:
        return account()

    def sample_content(self) -> Content:
        return super().sample_content().model_copy(update={"media": self.media})

    async def platform_posts(self) -> list[dict[str, Any]]:
        """What a viewer can watch on the channel: its videos that are not private."""
        channel = channel_of(self.make_account().secret("refresh_token"))
        now = sandbox.now()
        live = []
        for video in state().uploads_of(channel):
            video.refresh(now)
            if video.status["privacyStatus"] != "private":
                live.append(
                    {"id": video.id, "text": f"{video.snippet['title']}\n{video.snippet['description']}"}
                )
        return live

    async def inject_fault(self, kind: str) -> None:
        if kind == "expired_token":  # the refresh token is revoked: its access tokens die with it
            refresh = self.make_account().secret("refresh_token")
            state().revoke(refresh)
        elif kind == "server_error":
            sandbox.plan_preset("youtube", "server_error", path=UPLOAD_PATH)
        elif kind == "rate_limit":
            sandbox.plan_preset("youtube", "rate_limit", path=UPLOAD_PATH, reset_after_s=30)
        elif kind == "invalid":
            body = error_body(400, "invalidVideoMetadata", "The request metadata is invalid.")
            sandbox.plan(Fault("youtube", status=400, body=body, path=UPLOAD_PATH))
        elif kind == "timeout":
            sandbox.plan(Fault("youtube", status=0, latency_ms=LATE_MS, path=UPLOAD_PATH))
        else:
            pytest.skip(f"no {kind} fault for YouTube")

    async def inject_late_answer(self) -> None:  # YouTube takes the last chunk, its answer comes too late
        sandbox.plan(
            Fault("youtube", status=0, latency_ms=LATE_MS, path=UPLOAD_PATH, method="PUT", after=True)
        )
