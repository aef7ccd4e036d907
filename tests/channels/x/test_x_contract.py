"""The shared adapter contract, run on the X adapter against the X API emulator (in-process sandbox)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import httpx
import pytest

from loa.channels import Account, ChannelAdapter, Context, Secret
from loa.testing.adapter_contract import LATE_MS, REQUEST_TIMEOUT_S, AdapterContract
from services.sandbox import x as emulator
from services.sandbox.client import SandboxClient
from services.x.adapter import XAdapter
from services.x.settings import XSettings

pytestmark = pytest.mark.unit  # the sandbox runs in-process; no Kafka, MinIO or database

KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


class TestXContract(AdapterContract):
    splits_long_text: ClassVar[bool] = True

    @pytest.fixture(autouse=True)
    def _x_user(self, sandbox: SandboxClient, sandbox_url: str) -> None:
        """A fresh sandbox and one X user per test, registered through the emulator's control API."""
        self.sandbox = sandbox
        self.api_url = f"{sandbox_url}/x"
        self.keys = {k: f"{k}-{uuid.uuid4().hex}" for k in KEYS}
        self.user_id = "1859230000000000042"
        user = {"id": self.user_id, "username": "BoTTTT_VN", **self.keys}
        httpx.post(f"{self.api_url}/_accounts", json=user).raise_for_status()

    def make_adapter(self, context: Context) -> ChannelAdapter:
        return XAdapter(context, XSettings(x_api_url=self.api_url, x_timeout_s=REQUEST_TIMEOUT_S))

    def make_account(self) -> Account:
        return Account("x", "bo-tttt", {k: Secret(v) for k, v in self.keys.items()})

    async def platform_posts(self) -> list[dict[str, Any]]:
        mine = [t for t in emulator.state.tweets.values() if t["author_id"] == self.user_id]
        return [{"id": t["id"], "text": t["text"]} for t in mine]

    async def inject_fault(self, kind: str) -> None:
        if kind in {"expired_token", "rate_limit", "server_error"}:
            self.sandbox.fault("x", kind, path="/2/tweets", reset_after_s=900)
        elif kind == "invalid":  # X's invalid-request problem JSON (400)
            body = {
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
                "status": 400,
                "errors": [{"parameters": {"text": []}, "message": "Tweet text is invalid."}],
            }
            self.sandbox.fault("x", status=400, body=body, path="/2/tweets")
        elif kind == "timeout":  # slower than the adapter's timeout, then nothing posted
            self.sandbox.fault("x", status=503, latency_ms=LATE_MS, path="/2/tweets")
        else:
            pytest.skip(f"no {kind} fault for X")

    async def inject_late_answer(self) -> None:  # X posts the tweet, its answer comes too late
        self.sandbox.fault("x", status=0, latency_ms=LATE_MS, path="/2/tweets", after=True)
