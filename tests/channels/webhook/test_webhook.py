"""The webhook adapter against the real sandbox receiver: the shared contract, then its own quirks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from loa.channels import Account, AuthError, ChannelAdapter, Context, PermanentError, Secret, get
from loa.testing import FakeContext
from loa.testing.adapter_contract import AdapterContract
from services.sandbox.client import SandboxClient
from services.webhook.adapter import WebhookAdapter, retry_time, sign
from services.webhook.settings import WebhookSettings

pytestmark = pytest.mark.unit  # the sandbox runs in-process; no Kafka, MinIO or database

SECRET = "bí-mật-cổng-thông-tin-nội-bộ-2025"
ENDPOINT = "cong-noi-bo"


class TestWebhookAdapter(AdapterContract):
    @pytest.fixture(autouse=True)
    def _receiver(self, sandbox: SandboxClient, sandbox_url: str) -> None:
        self.sandbox = sandbox
        self.url = f"{sandbox_url}/webhook/{ENDPOINT}"
        sandbox.webhook_endpoint(ENDPOINT, SECRET)

    def make_adapter(self, context: Context) -> ChannelAdapter:
        return WebhookAdapter(context, WebhookSettings(webhook_timeout_s=0.5))

    def make_account(self) -> Account:
        return Account("webhook", "so-tttt-ha-noi", {"secret": Secret(SECRET)}, {"url": self.url})

    async def platform_posts(self) -> list[dict[str, Any]]:
        live = self.sandbox.webhook_live(ENDPOINT)
        return [{"id": d["id"], "text": f"{d['payload']['title']}\n{d['payload']['text']}"} for d in live]

    async def inject_fault(self, kind: str) -> None:
        if kind == "expired_token":  # a webhook's credential "expires" when the receiver rotates it
            self.sandbox.webhook_endpoint(ENDPOINT, "bí-mật-mới-đã-xoay-vòng")
        elif kind == "invalid":
            self.sandbox.fault("webhook", status=422, body={"error": "invalid_payload", "message": "title"})
        elif kind == "timeout":  # slower than the adapter's 0.5 s, and then no post: nothing in doubt
            self.sandbox.fault("webhook", status=504, latency_ms=1500)
        else:
            self.sandbox.fault("webhook", kind, reset_after_s=30)

    async def inject_late_answer(self) -> None:  # the receiver keeps the delivery, answers after 1.5 s
        self.sandbox.fault("webhook", status=0, latency_ms=1500, after=True)

    # ---- the webhook's own behaviour ----

    async def test_the_receiver_gets_the_signed_document(self, adapter: ChannelAdapter) -> None:
        post, result = await self.published(adapter)
        [record] = self.sandbox.records("webhook", "delivery")
        document = record["data"]["payload"]
        assert document["title"] == "Thông cáo báo chí: Kết quả chuyển đổi số quốc gia năm 2025"
        assert document["url"] == (
            "http://127.0.0.1:8082/2025/11/thong-cao-bao-chi-ket-qua-chuyen-doi-so-quoc-gia-nam-2025-11260042.html"
        )
        assert record["data"]["idempotency_key"] == post.marker == document["idempotency_key"]
        assert result.url is not None
        assert result.url.endswith(f"/deliveries/{result.external_id}")

    async def test_idempotency_key_is_per_version_and_account(self, adapter: ChannelAdapter) -> None:
        content = self.sample_content()
        first = await self.render(adapter, content)
        second = await self.render(adapter, content.model_copy(update={"version": 2}))
        other = Account("webhook", "cổng-đà-nẵng", {"secret": Secret(SECRET)}, {"url": self.url})
        third = await adapter.render(content, content.targets[0], other)
        assert len({first.marker, second.marker, third.marker}) == 3
        assert third.marker.isascii()  # it travels in an HTTP header

    async def test_every_publish_is_counted_so_the_runtime_must_not_repeat_it(
        self, adapter: ChannelAdapter
    ) -> None:
        post = await self.render(adapter, self.sample_content())
        await adapter.publish(post, self.make_account())
        await adapter.publish(post, self.make_account())
        assert self.sandbox.webhook_accepted() == {post.marker: 2}

    async def test_a_rotated_secret_fails_find_existing_as_auth(self, adapter: ChannelAdapter) -> None:
        post = await self.render(adapter, self.sample_content())
        self.sandbox.webhook_endpoint(ENDPOINT, "bí-mật-khác-hẳn")
        with pytest.raises(AuthError) as raised:
            await adapter.find_existing(post, self.make_account())
        assert raised.value.code == "401"
        assert "invalid_signature" in (raised.value.excerpt or "")

    async def test_a_missing_url_or_unknown_endpoint_is_permanent(self, adapter: ChannelAdapter) -> None:
        content = self.sample_content()
        no_url = Account("webhook", "chua-cau-hinh", {"secret": Secret(SECRET)})
        with pytest.raises(PermanentError, match=r"options\.url"):
            await adapter.render(content, content.targets[0], no_url)
        elsewhere = Account("webhook", "x", {"secret": Secret(SECRET)}, {"url": self.url + "-khac"})
        post = await adapter.render(content, content.targets[0], elsewhere)
        with pytest.raises(PermanentError) as raised:
            await adapter.publish(post, elsewhere)
        assert raised.value.code == "404"

    async def test_a_receiver_that_is_down_is_transient(self) -> None:
        from loa.channels import TransientError

        adapter = WebhookAdapter(FakeContext(), WebhookSettings(webhook_timeout_s=0.5))
        dead = Account("webhook", "x", {"secret": Secret(SECRET)}, {"url": "http://127.0.0.1:9/webhook/x"})
        post = await adapter.render(self.sample_content(), self.sample_content().targets[0], dead)
        with pytest.raises(TransientError, match="ConnectError"):
            await adapter.publish(post, dead)
        await adapter.aclose()


def test_it_is_registered() -> None:
    assert get("webhook") is WebhookAdapter


def test_signature_covers_timestamp_method_target_delivery_and_body() -> None:
    # Known answer computed independently of sign(): HMAC-SHA256 over the documented message
    import hashlib
    import hmac

    message = b"1700000000\nPUT\n/webhook/cong/deliveries/7?x=1\ntin-1:webhook:cong:v2\n{}"
    expected = hmac.new(b"key", message, hashlib.sha256).hexdigest()
    signed = sign(
        "key", "1700000000", "PUT", "/webhook/cong/deliveries/7?x=1", "tin-1:webhook:cong:v2", b"{}"
    )
    assert signed == f"sha256={expected}"
    # each part is covered: changing any one changes the signature
    others = [
        sign("key", "1700000001", "PUT", "/webhook/cong/deliveries/7?x=1", "tin-1:webhook:cong:v2", b"{}"),
        sign("key", "1700000000", "DELETE", "/webhook/cong/deliveries/7?x=1", "tin-1:webhook:cong:v2", b"{}"),
        sign("key", "1700000000", "PUT", "/webhook/cong/deliveries/8?x=1", "tin-1:webhook:cong:v2", b"{}"),
        sign("key", "1700000000", "PUT", "/webhook/cong/deliveries/7?x=1", "tin-2:webhook:cong:v2", b"{}"),
        sign("key", "1700000000", "PUT", "/webhook/cong/deliveries/7?x=1", "tin-1:webhook:cong:v2", b"[]"),
    ]
    assert signed not in others and len(set(others)) == len(others)


def test_retry_time_reads_retry_after_then_the_reset_header() -> None:
    def retry_at(headers: dict[str, str]) -> datetime | None:
        return retry_time(httpx.Response(429, headers=headers))

    def about(seconds: int) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=seconds)

    in_two_minutes = retry_at({"Retry-After": "120"})
    assert in_two_minutes is not None
    assert abs(in_two_minutes - about(120)) < timedelta(seconds=2)
    assert retry_at({"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}) == datetime(
        2099, 10, 21, 7, 28, tzinfo=UTC
    )
    reset = retry_at({"X-RateLimit-Reset": str(int(about(60).timestamp()))})
    assert reset is not None
    assert abs(reset - about(60)) < timedelta(seconds=2)
    assert retry_at({}) is None
    assert retry_at({"Retry-After": "next tuesday"}) is None
