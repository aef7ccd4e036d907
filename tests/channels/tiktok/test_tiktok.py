"""The tiktok adapter against the sandbox: the shared adapter contract."""

from __future__ import annotations

from typing import Any

import pytest

from loa.channels import Account, ChannelAdapter, Context, Secret
from loa.testing.adapter_contract import AdapterContract
from services.tiktok.adapter import TiktokAdapter
from services.tiktok.settings import TiktokSettings
from tests.sandbox_fixtures import SandboxClient

pytestmark = pytest.mark.unit  # the sandbox runs in-process

TOKEN = "mã-bí-mật-thử-nghiệm-tiktok"


class TestTiktokAdapter(AdapterContract):
    @pytest.fixture(autouse=True)
    def _platform(self, sandbox: SandboxClient, sandbox_url: str) -> None:
        self.sandbox = sandbox
        self.base_url = f"{sandbox_url}/webhook/tiktok"
        sandbox.webhook_endpoint("tiktok", TOKEN)

    def make_adapter(self, context: Context) -> ChannelAdapter:
        settings = TiktokSettings(
            tiktok_base_url=self.base_url,
            tiktok_timeout_s=0.5,
        )
        return TiktokAdapter(context, settings)

    def make_account(self) -> Account:
        return Account("tiktok", "so-tttt-thu-nghiem", {"token": Secret(TOKEN)})

    async def platform_posts(self) -> list[dict[str, Any]]:
        live = self.sandbox.webhook_live("tiktok")
        return [{"id": d["id"], "text": f"{d['payload']['title']}\n{d['payload']['text']}"} for d in live]

    async def inject_fault(self, kind: str) -> None:
        if kind == "expired_token":
            self.sandbox.webhook_endpoint("tiktok", "mã-đã-thu-hồi-và-thay-mới")
        elif kind == "invalid":
            self.sandbox.fault("webhook", status=422, body={"error": "invalid_payload"})
        elif kind == "timeout":
            self.sandbox.fault("webhook", status=504, latency_ms=1500)
        else:
            self.sandbox.fault("webhook", kind, reset_after_s=30)
