"""What the Facebook comment-action tests share: a Page's post with citizens' comments on the Graph
emulator, the commands' fields, the outcomes in the outbox, a runner as one replica would build it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlalchemy import select

from loa.channels import Account, ChannelAdapter
from loa.events import CommentActionSettled, parse_delivery_event
from loa.events.comment_actions import CommentActionResult
from loa.publisher.accounts import AccountStore
from loa.publisher.comment_actions import Backoff, CommentActionRunner
from loa.publisher.store import leases
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import outbox
from services.sandbox.facebook import Page

LEASE = timedelta(seconds=60)
"""LOA_PUBLISHER_LEASE_SECONDS's default."""


def replica(
    adapter: ChannelAdapter, store: JobStore, accounts: AccountStore, replica_id: str, *, poll: float = 1.0
) -> CommentActionRunner:
    """The runner of one replica (its lease owner as ``loa.publisher.main`` makes it)."""
    owner = leases.owner(replica_id, adapter.name)
    return CommentActionRunner(
        adapter, store, accounts, Backoff(0.01, 0.05), owner=owner, lease=LEASE, poll=poll
    )


POST = "UBND TP Đà Nẵng thông báo lịch tiếp công dân tháng 12/2026 của Chủ tịch UBND thành phố."
REPLY = "Cảm ơn anh/chị đã quan tâm. Lịch tiếp công dân đăng tại danang.gov.vn, mục Đường dây nóng."


def citizen_comment(graph_url: str, page: Page, clock: Callable[[timedelta], None]) -> tuple[str, str]:
    """A post of the Page with citizens' comments under it: (post id, the oldest comment's id)."""
    auth = {"Authorization": f"OAuth {page.token}"}
    post = httpx.post(f"{graph_url}/v24.0/{page.id}/feed", data={"message": POST}, headers=auth)
    assert post.status_code == 200, post.text
    post_id = str(post.json()["id"])
    clock(timedelta(hours=3))
    listed = httpx.get(f"{graph_url}/v24.0/{post_id}/comments", headers=auth).json()["data"]
    assert listed, "the simulation gave the post no comment"
    return post_id, str(listed[0]["id"])


def ref(account: Account, comment_id: str, **more: str) -> dict[str, str]:
    return {
        "content_id": "lich-tiep-cong-dan-12",
        "channel": "facebook",
        "account": account.name,
        "comment_id": comment_id,
        "action_id": uuid.uuid4().hex,
        "requested_by": "Lê Hoàng Đức",
        **more,
    }


async def outcomes(runner: CommentActionRunner) -> list[CommentActionResult]:
    async with runner.store.engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    events = [parse_delivery_event(r) for r in rows]
    return [e.payload for e in events if isinstance(e, CommentActionSettled)]
