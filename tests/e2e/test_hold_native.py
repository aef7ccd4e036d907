"""A hold on a natively scheduled post, through the real Facebook publisher and the Graph API
emulator: pulled back from the platform within 5 s, nothing goes out at its old time, the release
schedules it again at its original time within 5 s; a crash between the pull-back and its commit
repeats it harmlessly. (The adapters' own pull-back and put-back on YouTube and WordPress:
tests/channels/*/test_*_hold.py.)

Handed to the platform is ``publishing`` then ``scheduled``, milliseconds apart: the tests wait for
that path (``ChannelRun.until_path``), never for ``publishing`` as the last state seen (the reader
may take both events in one fetch: tests/unit/publisher/test_delivery_path.py)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from loa.events import (
    LATE_NOTE,
    Content,
    Delivery,
    Hold,
    HoldPublishing,
    HoldRelease,
    ReleasePublishing,
    topics,
)
from loa.publisher.main import Publisher
from loa.publisher.pullback import PULLED_BACK_NOTE
from services.facebook.adapter import FacebookAdapter
from services.sandbox.facebook import state
from services.sandbox.frame import sandbox as sandbox_state
from tests.e2e.facebook_support import ACCOUNT, live_posts, scheduled_posts
from tests.e2e.support import ChannelRun, S, article, later, retracted
from tests.integration.publisher.publisher_helpers import send

pytestmark = pytest.mark.e2e
HOLD_WITHIN_S = 5.0
HANDED_OVER = (S.PUBLISHING, S.SCHEDULED)
"""Handed to the platform, which holds the post until its time (native scheduling)."""
WHO = "Phạm Thị Đào"
REASON = "Tạm dừng: lịch khánh thành cầu Đà Rằng đang được xác minh lại"


def hold(hold_id: str) -> HoldPublishing:
    return HoldPublishing(payload=Hold(hold_id=hold_id, channel="facebook", requested_by=WHO, reason=REASON))


def release(hold_id: str) -> ReleasePublishing:
    return ReleasePublishing(payload=HoldRelease(hold_id=hold_id, requested_by=WHO, reason="Đã xác minh"))


async def command(run: ChannelRun, *commands: HoldPublishing | ReleasePublishing) -> None:
    await send(run.settings, topics.COMMANDS, commands, key=lambda e: e.payload.hold_id)  # type: ignore[attr-defined]


async def pulled_back(run: ChannelRun, cid: str, timeout: float = HOLD_WITHIN_S) -> Delivery:  # noqa: ASYNC109
    """Until the pull-back's status event (``held``, no longer on the platform's schedule)."""
    assert run.watcher is not None
    did = run.did(cid, ACCOUNT)
    await run.watcher.until(
        lambda: (run.watcher.last(did).note or "").startswith(PULLED_BACK_NOTE),  # type: ignore[union-attr]
        timeout=timeout,
        what="pulled back",
    )
    last = run.watcher.last(did)
    assert last is not None and last.state is S.HELD
    return last


async def scheduled_then_stopped(run: ChannelRun, title: str, hold_id: str) -> tuple[Content, Publisher]:
    """A content natively scheduled, its publisher stopped, and the hold applied by a publisher
    that is not running (no pull-backs yet): what a process that dies at that moment leaves."""
    c = article("facebook", ACCOUNT, [], publish_at=later(2), title=title)
    await run.approve(c)
    await run.until_path(c.id, ACCOUNT, HANDED_OVER)
    assert run.publisher is not None
    await run.publisher.stop()
    stopped = Publisher(FacebookAdapter, run.settings)
    await stopped.holds.apply(hold(hold_id))
    return c, stopped


async def restart(run: ChannelRun, stopped: Publisher) -> None:
    await stopped.adapter.aclose()
    await stopped.engine.dispose()
    run.publisher = Publisher(FacebookAdapter, run.settings)
    await run.publisher.start()


async def test_hold_pulls_a_native_post_back_within_5_s_and_release_schedules_it_at_its_time_within_5_s(
    facebook: ChannelRun, facebook_page: dict[str, str]
) -> None:
    due = later(2)
    c = article("facebook", ACCOUNT, [], publish_at=due, title="Khánh thành cầu Đà Rằng mới")
    await facebook.approve(c)
    await facebook.until_path(c.id, ACCOUNT, HANDED_OVER)
    [first] = scheduled_posts(facebook_page)

    started = time.monotonic()
    await command(facebook, hold("gtvt-1"))
    held = await pulled_back(facebook, c.id)
    print(f"native pull-back took effect: {time.monotonic() - started:.3f} s")
    assert scheduled_posts(facebook_page) == [], "the platform holds no scheduled post"
    assert first.id not in state().posts

    started = time.monotonic()
    await command(facebook, release("gtvt-1"))
    back = await facebook.until_path(c.id, ACCOUNT, HANDED_OVER, after=held.sequence, timeout=HOLD_WITHIN_S)
    print(f"release scheduled it again on the platform: {time.monotonic() - started:.3f} s")
    [again] = scheduled_posts(facebook_page)
    assert back.external_id == again.id
    assert again.scheduled_at is not None
    assert int(again.scheduled_at.timestamp()) == math.ceil(due.timestamp()), "at its original time"

    sandbox_state.clock_offset += timedelta(hours=2, minutes=1)
    try:
        assert [p.id for p in live_posts(facebook_page)] == [again.id], "published once, at its time"
    finally:
        sandbox_state.clock_offset -= timedelta(hours=2, minutes=1)


async def test_a_crash_between_the_pull_back_and_its_commit_leaves_one_consistent_state(
    facebook: ChannelRun, facebook_page: dict[str, str]
) -> None:
    # The hold applied, the platform call made, then the process died before its commit.
    c, crashed = await scheduled_then_stopped(facebook, "Thông báo phân luồng giao thông Tuy Hoà", "gtvt-2")
    async with crashed.store.tx() as conn:
        [job] = await crashed.store.in_states(conn, (S.HELD,))
    assert job.native and job.post is not None and job.result is not None
    found = await crashed.accounts.get(ACCOUNT)
    assert found is not None
    assert await crashed.adapter.pull_back(job.post, job.result, found.account)
    assert scheduled_posts(facebook_page) == []
    await restart(facebook, crashed)  # its pull-backs find the job still native and do it again: harmless
    held = await pulled_back(facebook, c.id, timeout=10)
    assert scheduled_posts(facebook_page) == [] and live_posts(facebook_page) == []

    await command(facebook, release("gtvt-2"))
    await facebook.until_path(c.id, ACCOUNT, HANDED_OVER, after=held.sequence, timeout=HOLD_WITHIN_S)
    assert len(scheduled_posts(facebook_page)) == 1, "scheduled again once"


async def test_its_time_passing_during_the_hold_makes_it_late_like_any_held_item(
    facebook: ChannelRun, facebook_page: dict[str, str], pass_time: Callable[[timedelta], None]
) -> None:
    c = article("facebook", ACCOUNT, [], publish_at=later(2), title="Lịch cắt điện khu vực Sông Cầu")
    await facebook.approve(c)
    await facebook.until_path(c.id, ACCOUNT, HANDED_OVER)
    await command(facebook, hold("gtvt-3"))
    await pulled_back(facebook, c.id, timeout=30)
    pass_time(timedelta(hours=2, minutes=1))
    assert live_posts(facebook_page) == [], "its old time passed on the platform: nothing went out"

    await command(facebook, release("gtvt-3"))
    assert facebook.watcher is not None
    did = facebook.did(c.id, ACCOUNT)
    await facebook.watcher.until(lambda: facebook.watcher.last(did).note == LATE_NOTE, what="late")  # type: ignore[union-attr]
    assert facebook.watcher.last(did).state is S.HELD  # type: ignore[union-attr]
    assert live_posts(facebook_page) == [] and scheduled_posts(facebook_page) == [], (
        "a late item waits for ops"
    )
    # (send now / reschedule / cancel from here: tests/integration/publisher/test_publisher_holds.py)


async def test_a_retraction_before_the_pull_back_takes_the_scheduled_post_down(
    facebook: ChannelRun, facebook_page: dict[str, str]
) -> None:
    # Held, not pulled back yet (the platform still has it), and then retracted.
    c, stopped = await scheduled_then_stopped(facebook, "Thông báo tuyển dụng Sở GTVT Phú Yên", "gtvt-4")
    await stopped.intake.take_in([retracted(c.id).payload])
    async with stopped.store.tx() as conn:
        taking_down = await stopped.store.in_states(conn, (S.RETRACTING,))
    assert len(taking_down) == 1 and len(scheduled_posts(facebook_page)) == 1
    await restart(facebook, stopped)
    await facebook.until_state(c.id, ACCOUNT, S.RETRACTED)
    assert scheduled_posts(facebook_page) == [] and live_posts(facebook_page) == [], (
        "taken down, never published"
    )
