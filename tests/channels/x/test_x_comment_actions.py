"""Replying to and hiding a citizen's reply on X, against the emulator (tweepy underneath)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from loa.channels import Account, ChannelError, PermanentError, Secret
from loa.testing.context import FakeContext
from services.sandbox import x as emulator
from services.sandbox import x_replies
from services.sandbox.client import SandboxClient
from services.sandbox.frame import sandbox as sandbox_state
from services.x.adapter import XAdapter
from services.x.client import XClient
from services.x.settings import XSettings

pytestmark = pytest.mark.integration

POST = "Thông báo: Sở Y tế Đà Nẵng tổ chức tiêm chủng mở rộng từ ngày 05/12/2026. #ĐàNẵng"
REPLY = "Chào bạn, lịch tiêm tại trạm y tế phường đăng trên trang của Sở Y tế Đà Nẵng."


def _user(user_id: str, name: str) -> Account:
    keys = {
        k: f"{k}-{uuid.uuid4().hex}"
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    emulator.state.users[keys["access_token"]] = emulator.XUser(id=user_id, username=name, **keys)
    return Account(channel="x", name=name, credentials={k: Secret(v) for k, v in keys.items()})


@pytest.fixture
def account(sandbox: SandboxClient) -> Account:
    emulator.state.__init__()  # type: ignore[misc]
    x_replies.hidden.clear()
    return _user("4242", "so-yte-dn")


@pytest.fixture
def adapter(sandbox_url: str) -> XAdapter:
    return XAdapter(FakeContext(None), XSettings(mode="development", x_api_url=f"{sandbox_url}/x"))  # type: ignore[arg-type]


def _citizen_reply(sandbox_url: str, account: Account) -> tuple[str, str]:
    """A post of the account and the first citizen's reply under it: (post id, reply id)."""
    client = XClient(account, f"{sandbox_url}/x")
    post_id = client.create(POST, None, [])
    sandbox_state.clock_offset += timedelta(hours=3)
    replies = client.replies(post_id)
    assert replies, "the simulation gave the post no reply"
    return post_id, str(replies[-1]["id"])


async def test_a_reply_joins_the_conversation_once_and_is_found_again(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    before = sandbox_state.clock_offset
    try:
        post_id, comment = _citizen_reply(sandbox_url, account)
        assert await adapter.find_comment_reply(account, comment, REPLY) is None
        reply_id = await adapter.reply_to_comment(account, comment, REPLY)
        assert emulator.state.tweets[reply_id]["in_reply_to_tweet_id"] == comment
        assert await adapter.find_comment_reply(account, comment, REPLY) == reply_id
        listed = XClient(account, f"{sandbox_url}/x").replies(post_id)
        assert [r["text"] for r in listed if r["id"] == reply_id] == [REPLY]  # in the conversation
    finally:
        sandbox_state.clock_offset = before


async def test_a_reply_over_280_weighted_characters_is_refused_before_any_call(
    adapter: XAdapter, account: Account
) -> None:
    too_long = "Đường " * 45  # 270 code points, 315 weighted: "ờ" (U+1EDD) weighs 2 (twitter-text v3)
    with pytest.raises(
        PermanentError, match=r"text: \d+ weighted characters, X takes a reply of at most 280"
    ):
        await adapter.reply_to_comment(account, "1", too_long)


async def test_hide_hides_and_only_the_conversations_author_may(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    before = sandbox_state.clock_offset
    try:
        _, comment = _citizen_reply(sandbox_url, account)
        await adapter.moderate_comment(account, comment)
        await adapter.moderate_comment(account, comment)  # again: nothing more changes
        assert x_replies.hidden == {comment}
        with pytest.raises(ChannelError):
            await adapter.moderate_comment(_user("777", "nguoi-khac"), comment)
        with pytest.raises(ChannelError):
            await adapter.moderate_comment(account, "999999999")
    finally:
        sandbox_state.clock_offset = before
