"""The shared adapter contract, run on the Facebook adapter against the Graph API emulator."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from loa.channels import Account, ChannelAdapter, Context, Secret
from loa.testing.adapter_contract import LATE_MS, REQUEST_TIMEOUT_S, AdapterContract
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.sandbox.facebook import Page, error_body, state
from services.sandbox.frame import Fault, sandbox

pytestmark = pytest.mark.integration


class TestFacebookContract(AdapterContract):
    page: Page
    graph_url: str

    @pytest.fixture(autouse=True)
    def _fresh_page(self, graph_url: str) -> None:
        """Each test gets its own page (the contract expects an empty platform per test)."""
        self.graph_url = graph_url
        page_id = str(300_000_000_000_000 + uuid.uuid4().int % 10**12)
        self.page = Page(page_id, "Cổng Thông tin điện tử Bộ", f"EAAG{uuid.uuid4().hex}")
        state().pages[page_id] = self.page

    def make_adapter(self, context: Context) -> ChannelAdapter:
        settings = FacebookSettings(facebook_graph_url=self.graph_url, facebook_timeout_s=REQUEST_TIMEOUT_S)
        return FacebookAdapter(context, settings)

    def make_account(self) -> Account:
        return Account(
            "facebook",
            "cong-ttdt",
            {"page_access_token": Secret(self.page.token)},
            {"page_id": self.page.id},
        )

    async def platform_posts(self) -> list[dict[str, Any]]:
        return [{"id": p.id, "text": p.message} for p in state().posts.values() if p.page_id == self.page.id]

    async def inject_fault(self, kind: str) -> None:
        path = f"/{self.page.id}"
        if kind == "expired_token":
            self.page.token_error = (190, 463, "Error validating access token: Session has expired.")
        elif kind == "server_error":
            body = error_body(2, "Service temporarily unavailable", type_="FacebookApiException")
            sandbox.plan(Fault("facebook", status=500, body=body, path=path))
        elif kind == "rate_limit":
            usage = {
                self.page.id: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 5}]
            }
            headers = {"X-Business-Use-Case-Usage": json.dumps(usage)}
            sandbox.plan(
                Fault(
                    "facebook",
                    status=400,
                    body=error_body(32, "(#32) Page request limit reached"),
                    headers=headers,
                    path=path,
                )
            )
        elif kind == "invalid":
            sandbox.plan(
                Fault("facebook", status=400, body=error_body(100, "(#100) Invalid parameter"), path=path)
            )
        elif kind == "timeout":
            sandbox.plan(Fault("facebook", status=0, latency_ms=LATE_MS, path=path))
        else:
            pytest.skip(f"no {kind} fault for Facebook")

    async def inject_late_answer(self) -> None:  # Graph makes the Page post, its answer comes too late
        sandbox.plan(Fault("facebook", status=0, latency_ms=LATE_MS, path=f"/{self.page.id}", after=True))
