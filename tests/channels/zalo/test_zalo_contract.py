"""The shared adapter contract, run on the Zalo OA adapter against the Zalo emulator (in-process sandbox)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from loa.channels import Account, ChannelAdapter, Context, LimitError, Secret
from loa.testing.adapter_contract import LATE_MS, REQUEST_TIMEOUT_S, VIETNAMESE_PARAGRAPH, AdapterContract
from services.sandbox import zalo as emulator
from services.sandbox.client import SandboxClient
from services.zalo.adapter import ZaloAdapter
from services.zalo.settings import ZaloSettings

pytestmark = pytest.mark.unit  # the sandbox runs in-process; no Kafka, MinIO or database

OA_ID = "1739540982635384731"


class TestZaloContract(AdapterContract):
    @pytest.fixture(autouse=True)
    def _oa(self, sandbox: SandboxClient, sandbox_url: str) -> None:
        """A fresh sandbox and one app + OA per test, with the pair Zalo gives after authorisation."""
        self.sandbox = sandbox
        self.url = f"{sandbox_url}/zalo"
        app = {"app_id": uuid.uuid4().hex[:16], "secret_key": uuid.uuid4().hex, "oa_id": OA_ID}
        pair = httpx.post(f"{self.url}/_apps", json=app).raise_for_status().json()
        expires = datetime.now(UTC) + timedelta(seconds=int(pair["expires_in"]))
        self.credentials = {
            **{k: app[k] for k in ("app_id", "secret_key")},
            "access_token": pair["access_token"],
            "refresh_token": pair["refresh_token"],
            "access_expires_at": expires.isoformat(),
        }

    def make_adapter(self, context: Context) -> ChannelAdapter:
        settings = ZaloSettings(
            zalo_openapi_url=f"{self.url}/openapi",
            zalo_oauth_url=f"{self.url}/oauth",
            zalo_timeout_s=REQUEST_TIMEOUT_S,
        )
        return ZaloAdapter(context, settings)

    def make_account(self) -> Account:
        return Account("zalo", "bo-tttt-oa", {k: Secret(v) for k, v in self.credentials.items()})

    async def platform_posts(self) -> list[dict[str, Any]]:
        mine = [a for a in emulator.state.articles.values() if a["oa_id"] == OA_ID]
        return [
            {
                "id": a["id"],
                "text": "\n".join(
                    [a["title"], a.get("description", "")]
                    + [str(item.get("content", "")) for item in a.get("body") or []]
                ),
            }
            for a in mine
        ]

    async def inject_fault(self, kind: str) -> None:
        openapi = "/zalo/openapi/"  # not the OAuth endpoint: a refresh goes through, as it would
        if kind == "expired_token":  # refused again after the one refresh → a person must look
            self.sandbox.fault("zalo", "expired_token", count=2, path=openapi)
        elif kind in {"rate_limit", "server_error"}:
            self.sandbox.fault("zalo", kind, path=openapi)
        elif kind == "invalid":
            body = {"error": -201, "message": "Parameter is invalid: body"}
            self.sandbox.fault("zalo", status=200, body=body, path="/article/create")
        elif kind == "timeout":  # slower than the adapter's timeout, then nothing created
            self.sandbox.fault("zalo", status=503, latency_ms=LATE_MS, path="/article/create")
        else:
            pytest.skip(f"no {kind} fault for Zalo")

    async def inject_late_answer(self) -> None:  # Zalo creates the article, its answer comes too late
        self.sandbox.fault("zalo", status=0, latency_ms=LATE_MS, path="/article/create", after=True)

    # ---- Zalo's own rules on top of the contract ----

    async def test_a_long_summary_becomes_a_description_cut_at_a_word(self, adapter: ChannelAdapter) -> None:
        content = self.sample_content().model_copy(update={"summary": VIETNAMESE_PARAGRAPH * 2})
        post = await self.render(adapter, content)
        description = post.payload["article"]["description"]
        assert len(description) <= 300 and description.endswith("…")
        assert (description[:-1] + " ") in (VIETNAMESE_PARAGRAPH * 2), "cut between words"

    async def test_a_long_override_is_refused_not_cut(self, adapter: ChannelAdapter) -> None:
        content = self.with_target(self.sample_content(), text=VIETNAMESE_PARAGRAPH * 2)
        with pytest.raises(LimitError, match=rf"^text: {len(VIETNAMESE_PARAGRAPH * 2)} characters"):
            await self.render(adapter, content)
