"""Replying to and hiding a citizen's comment from the inbox API, through the Facebook publisher, on the
real stack: the tracker sends the command (Kafka, its own producer), the publisher does it on the
Graph emulator once (a redelivered command too) and its outcome moves the comment in the inbox.

Kafka, SQLite stores, the sandbox in this process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from loa.events import Comments, CommentsObserved, PostComment, topics, utcnow
from loa.events.commands import CommentReply, ReplyToComment
from loa.publisher.main import Publisher
from loa.publisher.store.db import migrate
from loa.settings import LoaSettings
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.sandbox.facebook import Page, state
from services.sandbox.facebook_comments import comments_of, hidden
from services.sandbox.frame import sandbox as sandbox_state
from services.tracker.tables import post_comments
from tests.e2e.support import fast_settings
from tests.integration.tracker.support import (
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    tracker_settings,
)
from tests.sandbox_fixtures import sandbox_server, sandbox_url

__all__ = ["sandbox_server", "sandbox_url"]
pytestmark = pytest.mark.integration

ACCOUNT = "trang-so-tttt-da-nang"
MESSAGE = "Đà Nẵng: từ 15/12/2026, người cao tuổi đăng ký khám sức khoẻ miễn phí tại phường."
REPLY = "Chào anh/chị, Sở Y tế Đà Nẵng xin trả lời: đăng ký tại trạm y tế phường, không thu phí."


@pytest.fixture
def aged() -> Iterator[None]:
    """The sandbox's clock three hours on: the post has citizens' comments; put back after."""
    before = sandbox_state.clock_offset
    yield
    sandbox_state.clock_offset = before


def post_with_comments(sandbox_url: str, page: Page) -> tuple[str, list[dict[str, Any]]]:
    headers = {"Authorization": f"OAuth {page.token}"}
    posted = httpx.post(
        f"{sandbox_url}/graph/v24.0/{page.id}/feed", data={"message": MESSAGE}, headers=headers
    )
    post_id = str(posted.json()["id"])
    sandbox_state.clock_offset += timedelta(hours=3)
    listed = httpx.get(f"{sandbox_url}/graph/v24.0/{post_id}/comments", headers=headers).json()["data"]
    assert len(listed) >= 2, "the simulation gave the post too few comments"
    return post_id, listed


def observed(content_id: str, post_id: str, listed: list[dict[str, Any]]) -> CommentsObserved:
    """What the listener would send for the post (its reader is tested on its own)."""
    comments = [
        PostComment(
            external_id=c["id"],
            author=c["from"]["name"],
            text=c["message"],
            created_at=utcnow() - timedelta(hours=1),
        )
        for c in listed
    ]
    payload = Comments(
        content_id=content_id,
        version=1,
        channel="facebook",
        account=ACCOUNT,
        external_id=post_id,
        observed_at=utcnow(),
        comments=comments,
    )
    return CommentsObserved(payload=payload, producer="loa-listener")


async def test_an_operator_replies_once_and_hides_through_the_publisher(
    settings: LoaSettings, sqlite_url: str, tmp_path: Path, sandbox_url: str, aged: None
) -> None:
    await create_topics(settings)
    sandbox_state.reset()
    page_id = str(300_000_000_000_000 + uuid.uuid4().int % 10**12)
    page = state().pages.setdefault(page_id, Page(page_id, "Sở Y tế Đà Nẵng", f"EAAG{uuid.uuid4().hex}"))
    post_id, listed = post_with_comments(sandbox_url, page)
    content_id = f"kham-suc-khoe-{uuid.uuid4().hex[:6]}"

    fb: FacebookSettings = fast_settings(
        settings, FacebookSettings, tmp_path, mode="development", facebook_graph_url=f"{sandbox_url}/graph"
    )
    publisher = Publisher(FacebookAdapter, fb)
    await migrate(publisher.engine)
    await publisher.accounts.add(ACCOUNT, {"page_access_token": page.token}, {"page_id": page.id})
    await publisher.start()
    try:
        async with (
            running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
            producer(settings) as p,
        ):
            await send(p, settings, topics.ENGAGEMENT, [observed(content_id, post_id, listed)])

            async def inbox() -> list[dict[str, Any]]:
                answer = await client.get(
                    "/api/v1/comments", params={"content": content_id}, headers=auth("viewer")
                )
                return list(answer.json())

            async def kept() -> bool:
                return len(await inbox()) == len(listed)

            await eventually(kept, within=15, what="the comments in the inbox")
            by_platform = {c["external_id"]: c["id"] for c in await inbox()}
            asked, shown = listed[0]["id"], listed[1]["id"]

            reply_url = f"/api/v1/comments/{by_platform[asked]}/reply"
            refused = await client.post(reply_url, json={"text": REPLY}, headers=auth("viewer"))
            assert refused.status_code == 403
            too_long = await client.post(reply_url, json={"text": "Đ" * 8001}, headers=auth("operator"))
            assert too_long.status_code == 422
            assert "text: 8001 characters, facebook takes a reply of at most 8000" in too_long.text

            sent = await client.post(reply_url, json={"text": REPLY}, headers=auth("operator"))
            assert sent.status_code == 202, sent.text
            assert sent.json()["action_state"] == "sending" and sent.json()["state"] == "new"

            async def answered() -> bool:
                found = {c["external_id"]: c for c in await inbox()}[asked]
                return found["state"] == "answered" and found["action_state"] == "done"

            await eventually(answered, within=20, what="the publisher's outcome of the reply")
            comment = {c["external_id"]: c for c in await inbox()}[asked]
            assert comment["reply_text"] == REPLY and comment["state_by"] == "operator"

            # Kafka delivers the command again (same action id): nothing more goes to the platform.
            engine = create_async_engine(sqlite_url)
            async with engine.connect() as conn:
                action_id = (
                    await conn.execute(
                        select(post_comments.c.action_id).where(post_comments.c.external_id == asked)
                    )
                ).scalar_one()
            await engine.dispose()
            ref = CommentReply(
                content_id=content_id,
                channel="facebook",
                account=ACCOUNT,
                comment_id=asked,
                action_id=action_id,
                requested_by="operator",
                text=REPLY,
            )
            await send(p, settings, topics.COMMANDS, [ReplyToComment(payload=ref, producer="loa-tracker")])

            hide = await client.post(f"/api/v1/comments/{by_platform[shown]}/hide", headers=auth("operator"))
            assert hide.status_code == 202, hide.text

            async def hidden_in_inbox() -> bool:
                found = {c["external_id"]: c for c in await inbox()}[shown]
                return found["state"] == "hidden" and found["action_state"] == "done"

            # Same key (the content id), so the redelivered reply was applied before this hide.
            await eventually(hidden_in_inbox, within=20, what="the publisher's outcome of the hide")
            assert shown in hidden()
            assert [r.message for r in comments_of(asked)] == [REPLY]

            audit = await client.get(
                "/api/v1/audit", params={"action": "comment_reply"}, headers=auth("admin")
            )
            assert any(i["actor"] == "operator" for i in audit.json()["items"]), audit.text
    finally:
        await publisher.stop()
