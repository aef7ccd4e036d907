"""The shared adapter contract, run on the TikTok adapter against its emulator, the video in real MinIO.

Where the contract's words mean something else on TikTok: ``update`` and ``retract`` are
unsupported (the Content Posting API has neither an edit nor a delete endpoint), which the suite
accepts as an honest ``UnsupportedError``; the reader sees the caption (title and summary together).
"""

from __future__ import annotations

from typing import Any

import pytest

from loa.channels import Account, ChannelAdapter, Context
from loa.events import Content, MediaRef
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing import FakeContext
from loa.testing.adapter_contract import LATE_MS, REQUEST_TIMEOUT_S, AdapterContract
from services.sandbox import tiktok as emulator
from services.sandbox.client import SandboxClient
from services.tiktok.adapter import TikTokAdapter
from services.tiktok.settings import TikTokSettings
from tests.channels.tiktok.support import OPEN_ID, put_video, register_creator

pytestmark = pytest.mark.integration
INIT_PATH = "/tiktok/v2/post/publish/video/init/"
UPLOAD_PATH = "/tiktok/upload/video/"


class TestTikTokContract(AdapterContract):
    @pytest.fixture(autouse=True)
    def _platform(self, sandbox: SandboxClient, sandbox_url: str, settings: LoaSettings) -> None:
        """A reset emulator with one creator, and a small video in this test's MinIO bucket."""
        self.sandbox = sandbox
        self.api_url = f"{sandbox_url}/tiktok"
        self.account = register_creator(sandbox_url)
        self.store = MediaStore(settings)
        self.store.ensure_buckets()
        self.video: MediaRef = put_video(self.store, 400_000)

    def make_context(self) -> Context:
        return FakeContext(media=self.store)

    def make_adapter(self, context: Context) -> ChannelAdapter:
        settings = TikTokSettings(
            tiktok_api_url=self.api_url,
            tiktok_timeout_s=REQUEST_TIMEOUT_S,
            tiktok_upload_timeout_s=REQUEST_TIMEOUT_S,
            tiktok_status_interval_s=0.0,
        )
        return TikTokAdapter(context, settings)

    def make_account(self) -> Account:
        return self.account

    def sample_content(self) -> Content:
        return super().sample_content().model_copy(update={"media": [self.video]})

    async def platform_posts(self) -> list[dict[str, Any]]:
        """The creator's videos on TikTok (none is ever deleted: the API cannot)."""
        mine = [p for p in emulator.state.posts.values() if p["open_id"] == OPEN_ID]
        return [{"id": p["id"], "text": p["title"]} for p in mine]

    async def inject_fault(self, kind: str) -> None:
        if kind == "expired_token":  # the creator removed the app: no token of theirs works
            emulator.state.access.clear()
            emulator.state.refresh.clear()
        elif kind in {"rate_limit", "server_error"}:
            self.sandbox.fault("tiktok", kind, path=INIT_PATH)
        elif kind == "invalid":
            body = {"error": {"code": "invalid_param", "message": "post_info is invalid", "log_id": "1"}}
            self.sandbox.fault("tiktok", status=400, body=body, path=INIT_PATH)
        elif kind == "timeout":
            self.sandbox.fault("tiktok", status=503, latency_ms=LATE_MS, path=INIT_PATH)
        else:
            pytest.skip(f"no {kind} fault for TikTok")

    async def inject_late_answer(self) -> None:  # TikTok takes the last chunk, its answer comes too late
        self.sandbox.fault("tiktok", status=0, latency_ms=LATE_MS, path=UPLOAD_PATH, after=True)
