"""The contract every channel adapter passes: inherit ``AdapterContract`` and fill in its factory.

    class TestMyChannel(AdapterContract):
        def make_adapter(self, context): return MyAdapter(context, MySettings(...))
        def make_account(self): return Account("mychannel", "so-tttt", {"token": Secret("...")})
        async def platform_posts(self): ...   # what the platform (sandbox) holds, live
        async def inject_fault(self, kind): ... # make the platform's next call fail that way
        async def inject_late_answer(self): ... # optional: the post is made, its answer comes too late

The suite drives the adapter against the platform side (the sandbox emulator, or any fake the
hooks reach) and checks what the runtime relies on: the declared limits (``render``, then the
runtime's own ``check_limits``, as at intake: the adapter does not repeat it), the three error
classes, ``find_existing`` after ``publish`` and after a publish that timed out once the platform had made
the post (``inject_late_answer``), update/retract or an honest ``UnsupportedError``,
and secrets that never leak. Needs pytest and pytest-asyncio.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import pytest_asyncio
from pydantic import BaseModel

from loa.channels import (
    Account,
    AuthError,
    ChannelAdapter,
    ChannelError,
    Context,
    PermanentError,
    Post,
    TransientError,
    UnsupportedError,
    check_limits,
)
from loa.events import Content, Target
from loa.logging import JsonFormatter
from loa.testing.context import FakeContext

FAULT_KINDS = ("server_error", "rate_limit", "expired_token", "invalid", "timeout")
"""What ``inject_fault`` is asked to cause; a platform that cannot show one calls ``pytest.skip``."""
REQUEST_TIMEOUT_S = 1.0
"""The per-request timeout a channel's contract test gives its adapter (a timeout fault answers 3×
later). At 0.5 s an in-process emulator's answer came late once on a loaded machine: a
``ReadTimeout`` in Zalo's suite, in a fresh-clone CI rehearsal (session 46)."""
LATE_MS = int(REQUEST_TIMEOUT_S * 3000)
"""How late a contract test's timeout fault answers: well past ``REQUEST_TIMEOUT_S``."""

EXPECTED_ERROR: dict[str, type[ChannelError]] = {
    "server_error": TransientError,
    "rate_limit": TransientError,
    "expired_token": AuthError,
    "invalid": PermanentError,
    "timeout": TransientError,
}

VIETNAMESE_PARAGRAPH = (
    "Sáng 26/11, tại Hà Nội, Bộ Thông tin và Truyền thông tổ chức họp báo công bố kết quả "
    "chuyển đổi số quốc gia năm 2025. Đồng chí Đặng Văn Đức, Phó Cục trưởng, cho biết đã có hơn "
    "4.500 dịch vụ công trực tuyến toàn trình được cung cấp trên Cổng Dịch vụ công quốc gia; "
    "người dân ở Đắk Lắk, Điện Biên và Bà Rịa – Vũng Tàu đã có thể nộp hồ sơ mọi lúc, mọi nơi. "
)


def post_json(post: Post) -> str:
    """The post as the runtime persists it (JSON), to check what it holds."""

    def default(value: object) -> object:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(f"Post holds a {type(value).__name__}, which is not JSON-serialisable")

    return json.dumps(asdict(post), default=default, ensure_ascii=False)


class AdapterContract(ABC):
    """Base test class: each channel's ``Test<Channel>`` inherits it and implements the factory."""

    splits_long_text: ClassVar[bool] = False
    """The channel splits a too-long text into several parts (a thread) instead of refusing it."""

    # ---- the factory and the platform hooks each channel provides ----

    @abstractmethod
    def make_adapter(self, context: Context) -> ChannelAdapter:
        """The adapter under test, pointed at the platform side (the sandbox)."""

    @abstractmethod
    def make_account(self) -> Account:
        """An account whose credentials the platform side accepts (secrets of 8+ characters)."""

    @abstractmethod
    async def platform_posts(self) -> list[dict[str, Any]]:
        """The posts live on the platform for this account: each ``{"id": external id, "text": what a
        reader sees (title and text together)}``."""

    @abstractmethod
    async def inject_fault(self, kind: str) -> None:
        """Make the platform's next call fail as ``kind`` (one of ``FAULT_KINDS``)."""

    async def inject_late_answer(self) -> None:
        """Make the platform do the next publish call's work (the post is made), then answer later than
        the adapter waits: a read timeout after the request was sent. A platform that cannot show
        it calls ``pytest.skip`` saying why (the default)."""
        pytest.skip("no late answer for this platform")

    def make_context(self) -> Context:
        return FakeContext()

    def sample_content(self) -> Content:
        """A real Vietnamese content with one target: this channel and ``make_account()``."""
        account = self.make_account()
        return Content(
            id="cttdt-2025-11-26-0042",
            version=1,
            title="Thông cáo báo chí: Kết quả chuyển đổi số quốc gia năm 2025",
            summary="Hơn 4.500 dịch vụ công trực tuyến toàn trình đã được cung cấp; Đắk Lắk dẫn đầu.",
            body=f"<p>{VIETNAMESE_PARAGRAPH}</p><p>{VIETNAMESE_PARAGRAPH}</p>",
            tags=["chuyển đổi số", "dịch vụ công"],
            unit="Vụ Thông tin cơ sở",
            approved_by="Nguyễn Thị Hương",
            approved_at=datetime(2025, 11, 26, 8, 30, tzinfo=UTC),
            targets=[Target(channel=account.channel, account=account.name)],
        )

    # ---- helpers ----

    def secrets(self) -> list[str]:
        account = self.make_account()
        values = [account.secret(key) for key in account.credentials]
        assert all(len(v) >= 8 for v in values), "make_account: use secrets of 8+ characters"
        return values

    def assert_no_secret(self, text: str, where: str) -> None:
        for secret in self.secrets():
            assert secret not in text, f"a credential appears in {where}"

    def with_target(self, content: Content, **changes: Any) -> Content:
        target = content.targets[0].model_copy(update=changes)
        return content.model_copy(update={"targets": [target]})

    async def render(self, adapter: ChannelAdapter, content: Content) -> Post:
        """The post as intake keeps it: rendered, then checked against the declared limits."""
        post = await adapter.render(content, content.targets[0], self.make_account())
        check_limits(post, adapter.limits)
        return post

    async def published(self, adapter: ChannelAdapter) -> tuple[Post, Any]:
        post = await self.render(adapter, self.sample_content())
        return post, await adapter.publish(post, self.make_account())

    @pytest_asyncio.fixture
    async def adapter(self) -> AsyncIterator[ChannelAdapter]:
        adapter = self.make_adapter(self.make_context())
        yield adapter
        await adapter.aclose()

    # ---- render ----

    async def test_render_gives_a_json_post_without_secrets(self, adapter: ChannelAdapter) -> None:
        content = self.sample_content()
        post = await self.render(adapter, content)
        assert (post.content_id, post.version) == (content.id, content.version)
        assert (post.channel, post.account) == (adapter.name, self.make_account().name)
        assert post.marker, "render: the post needs a marker for find_existing"
        assert (await self.render(adapter, content)).marker == post.marker, "render: marker must be stable"
        self.assert_no_secret(repr(post), "repr(post)")
        self.assert_no_secret(post_json(post), "the post's JSON")

    async def test_render_respects_the_text_limit(self, adapter: ChannelAdapter) -> None:
        limits = adapter.limits
        if limits.text_max is None or limits.text_max >= 100_000:
            pytest.skip("no text limit a target override can exceed")
        repeats = limits.text_max // len(VIETNAMESE_PARAGRAPH) + 2
        too_long = (VIETNAMESE_PARAGRAPH * repeats)[: limits.text_max + 50].strip()
        assert limits.count(too_long) > limits.text_max
        content = self.with_target(self.sample_content(), text=too_long)
        if self.splits_long_text:
            post = await self.render(adapter, content)
            assert len(post.texts) > 1, "a too-long text must be split into parts"
            for part in post.texts:
                assert limits.count(part) <= limits.text_max
            return
        with pytest.raises(PermanentError) as refused:  # LimitError is one
            await self.render(adapter, content)
        assert "text" in str(refused.value), "the error must name the field"

    async def test_render_respects_the_title_limit(self, adapter: ChannelAdapter) -> None:
        title_max = adapter.limits.title_max
        if title_max is None or title_max >= 1000:
            pytest.skip("no title limit a target override can exceed")
        too_long = ("Đại hội đại biểu toàn quốc " * (title_max // 10 + 2))[: title_max + 5]
        content = self.with_target(self.sample_content(), title=too_long)
        try:
            post = await self.render(adapter, content)
        except PermanentError as e:
            refused: PermanentError | None = e
        else:
            refused = None
            assert post.title is None or adapter.limits.count(post.title) <= title_max
        assert refused is None or "title" in str(refused), "the error must name the field"

    # ---- publish and find_existing ----

    async def test_publish_then_find_existing_finds_it(self, adapter: ChannelAdapter) -> None:
        post, result = await self.published(adapter)
        assert result.external_id
        found = await adapter.find_existing(post, self.make_account())
        assert found is not None, "find_existing must find a published post"
        assert found.external_id == result.external_id
        live = await self.platform_posts()
        assert [p["id"] for p in live] == [result.external_id], "exactly one post on the platform"
        content = self.sample_content()
        # A channel shows the title, the summary, or both (X posts the summary, no title).
        assert any(words.lower() in live[0]["text"].lower() for words in (content.title, content.summary))

    async def test_find_existing_of_a_never_published_post_is_none(self, adapter: ChannelAdapter) -> None:
        post = await self.render(adapter, self.sample_content())
        assert await adapter.find_existing(post, self.make_account()) is None

    # ---- errors ----

    @pytest.mark.parametrize("kind", FAULT_KINDS)
    async def test_platform_errors_are_mapped(self, adapter: ChannelAdapter, kind: str) -> None:
        post = await self.render(adapter, self.sample_content())
        await self.inject_fault(kind)
        before = datetime.now(UTC)
        with pytest.raises(ChannelError) as raised:
            await adapter.publish(post, self.make_account())
        error = raised.value
        expected = EXPECTED_ERROR[kind]
        assert isinstance(error, expected), f"{kind}: expected {expected.__name__}, got {error!r}"
        if kind == "invalid":
            assert not isinstance(error, AuthError | TransientError)
        if kind == "rate_limit":
            assert isinstance(error, TransientError)
            assert error.retry_at is not None, "a rate limit must carry the platform's reset time"
            assert error.retry_at.tzinfo is not None
            assert before - timedelta(seconds=1) <= error.retry_at <= before + timedelta(days=1)
        self.assert_no_secret(f"{error} {error.code} {error.excerpt}", f"the {kind} error")
        if kind != "timeout":  # after a timeout the post may or may not be there: that is find_existing's job
            assert await self.platform_posts() == [], f"{kind}: nothing may be left on the platform"

    async def test_a_timeout_after_the_post_was_made_is_in_doubt_and_found(
        self, adapter: ChannelAdapter
    ) -> None:
        """The runtime asks ``find_existing`` before sending again (``TransientError.in_doubt``); it
        must find the post the timed-out call made, so the retry publishes nothing new."""
        post = await self.render(adapter, self.sample_content())
        await self.inject_late_answer()
        with pytest.raises(TransientError) as raised:
            await adapter.publish(post, self.make_account())
        assert raised.value.in_doubt, f"a timeout after the request was sent is in doubt: {raised.value!r}"
        found = await adapter.find_existing(post, self.make_account())
        assert found is not None, "find_existing must find the post the timed-out call made"
        live = await self.platform_posts()
        assert [p["id"] for p in live] == [found.external_id], "exactly one post on the platform"

    # ---- update and retract ----

    async def test_update_edits_the_post_or_is_unsupported(self, adapter: ChannelAdapter) -> None:
        _, result = await self.published(adapter)
        original = self.sample_content()
        changed = original.model_copy(
            update={
                "version": 2,
                "title": "Cập nhật: " + original.title,
                "summary": "Cập nhật: " + original.summary,
                "body": "<p>Cập nhật: </p>" + original.body,
            }
        )
        new_post = await self.render(adapter, changed)
        try:
            updated = await adapter.update(new_post, result, self.make_account())
        except UnsupportedError:
            assert not adapter.supports_update, "UnsupportedError from update: set supports_update = False"
            return
        assert adapter.supports_update
        live = await self.platform_posts()
        assert [p["id"] for p in live] == [updated.external_id]
        assert "Cập nhật" in live[0]["text"]

    async def test_retract_takes_the_post_down_or_is_unsupported(self, adapter: ChannelAdapter) -> None:
        post, result = await self.published(adapter)
        try:
            await adapter.retract(result, self.make_account())
        except UnsupportedError:
            return
        assert await self.platform_posts() == []
        assert await adapter.find_existing(post, self.make_account()) is None
        await adapter.retract(result, self.make_account())  # a retried retract is harmless

    # ---- secrets ----

    async def test_secrets_never_appear_in_logs_or_errors(
        self, adapter: ChannelAdapter, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        post, _ = await self.published(adapter)
        await adapter.find_existing(post, self.make_account())
        await self.inject_fault("expired_token")
        # A fresh post: one whose progress says it is all out may rightly make no call at all.
        fresh = await self.render(adapter, self.with_target(self.sample_content(), text="Bản tin thứ hai."))
        with pytest.raises(ChannelError) as raised:
            await adapter.publish(fresh, self.make_account())
        self.assert_no_secret(f"{raised.value!r} {raised.value}", "an error")
        formatter = JsonFormatter()
        for record in caplog.records:
            self.assert_no_secret(record.getMessage(), f"log line {record.name}")
            self.assert_no_secret(formatter.format(record), f"log line {record.name}")
            self.assert_no_secret(json.dumps(record.__dict__, default=repr), f"log record {record.name}")
