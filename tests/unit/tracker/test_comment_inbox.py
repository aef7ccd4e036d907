"""The inbox on SQLite: comments kept once with their unit, the watch raising one alert per post, rule
and hour (to the dashboard table and the signed-webhook outbox), a unit's own watchlist, the marks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import Comments, CommentsObserved, PostComment
from loa.events.comment_actions import CommentActionKind, CommentActionResult, CommentActionState
from services.tracker import comment_actions
from services.tracker.comments import (
    CommentState,
    get_comment,
    list_comments,
    mark,
    recent_alerts,
    record_comments,
    set_phrases,
)
from services.tracker.db import make_engine, migrate
from services.tracker.ingest import apply_content_events
from services.tracker.settings import AlertHook
from services.tracker.tables import alerts_outbox
from services.tracker.watch import VolumeRule
from tests.integration.tracker.support import UNIT, approved

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
CONTENT = "thong-cao-da-nang"
HOOK = AlertHook(name="truc-ban", url="https://alerts.example.invalid/loa", secret=SecretStr("s" * 32))
CALM = ["Cảm ơn thành phố đã thông tin kịp thời.", "Người cao tuổi đăng ký ở đâu vậy ạ?"]
AUTHOR = "Trần Thị Bích"
NOTE = "Chuyển người phát ngôn: cần đính chính"
FALSE = "Đây là TIN GIẢ, đừng tin! Thành phố không hề có chủ trương này."


def listed(minutes: int, texts: list[tuple[str, str, int]]) -> CommentsObserved:
    """texts: (comment id, text, minutes after T0 it was written)."""
    return CommentsObserved(
        payload=Comments(
            content_id=CONTENT,
            version=1,
            channel="facebook",
            account="so-ttt-da-nang",
            external_id="1000_42",
            observed_at=T0 + timedelta(minutes=minutes),
            comments=[
                PostComment(
                    external_id=f"42_{i}",
                    author="Trần Thị Bích",
                    text=t,
                    created_at=T0 + timedelta(minutes=m),
                )
                for i, t, m in texts
            ],
        )
    )


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    await migrate(made)
    await apply_content_events(made, [approved(CONTENT, [("facebook", "so-ttt-da-nang")])])
    yield made
    await made.dispose()


async def outbox(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        return [json.loads(r.payload) for r in (await conn.execute(select(alerts_outbox))).all()]


async def test_a_false_claim_raises_one_alert_and_a_calm_thread_none(engine: AsyncEngine) -> None:
    rule = VolumeRule(minimum=1000)  # the phrase rule alone here
    calm = listed(20, [("1", CALM[0], 5), ("2", CALM[1], 12)])
    assert await record_comments(engine, [calm], [HOOK], rule) == []
    burst = listed(70, [("1", CALM[0], 5), ("3", FALSE, 62), ("4", "lua dao ca thoi", 63), ("5", FALSE, 64)])
    raised = await record_comments(engine, [burst], [HOOK], rule)
    assert sorted((r.phrase, r.count) for r in raised) == [("lừa đảo", 1), ("tin giả", 2)]
    assert await record_comments(engine, [burst], [HOOK], rule) == []  # read again: nothing new
    sent = await outbox(engine)
    assert len(sent) == 2 and {a["type"] for a in sent} == {"watch.alert"}
    fake = next(a for a in sent if a["phrase"] == "tin giả")
    assert fake["unit"] == UNIT and fake["content_id"] == CONTENT and fake["count"] == 2
    links = fake["links"]
    assert isinstance(links, dict) and links["comments"].startswith(f"/inbox?content={CONTENT}")
    assert [a.kind for a in await recent_alerts(engine, None)] == ["phrase", "phrase"]
    assert await recent_alerts(engine, frozenset({"Sở Y tế"})) == []

    everything = await list_comments(engine, None)
    assert [c.text for c in everything][:1] == [FALSE] and len(everything) == 5  # newest first, once each
    assert {c.matched for c in everything} == {None, "tin giả", "lừa đảo"}
    assert len(await list_comments(engine, None, keyword="tin giả")) == 2
    assert len(await list_comments(engine, None, keyword="lừa đảo")) == 1
    assert await list_comments(engine, frozenset({"Sở Y tế"})) == []  # another unit sees none


async def test_a_units_own_watchlist_replaces_the_default(engine: AsyncEngine) -> None:
    await set_phrases(engine, UNIT, ["thu phí"], "chanh-van-phong")
    raised = await record_comments(
        engine, [listed(70, [("1", FALSE, 60), ("2", "Nghe nói sẽ THU PHI 500 nghìn", 61)])], [], VolumeRule()
    )
    assert [r.phrase for r in raised] == ["thu phí"]


async def test_a_burst_over_the_baseline_is_a_volume_alert(engine: AsyncEngine) -> None:
    steady = [(f"s{m}", CALM[m % 2], m) for m in range(0, 360, 15)]  # four an hour for six hours
    burst = [(f"b{i}", CALM[i % 2], 400 + i) for i in range(30)]
    raised = await record_comments(engine, [listed(430, steady + burst)], [HOOK], VolumeRule(factor=3.0))
    [volume] = [r for r in raised if r.kind == "volume"]
    assert volume.count >= 30 and "bình luận trong giờ qua" in volume.detail
    [unit_wide] = [r for r in raised if r.kind == "unit_volume"]  # the unit's only post: its spike too
    assert unit_wide.detail.startswith(f"{UNIT}: ")
    quiet = await record_comments(engine, [listed(440, [("late", CALM[0], 435)])], [HOOK], VolumeRule())
    assert {r.kind for r in quiet} == {"volume", "unit_volume"}  # still a spike, but raised once an hour
    assert [a.kind for a in await recent_alerts(engine, None)].count("unit_volume") == 1


async def test_a_calm_unit_is_not_a_unit_spike(engine: AsyncEngine) -> None:
    steady = [(f"s{m}", CALM[m % 2], m) for m in range(0, 430, 10)]  # six an hour throughout
    raised = await record_comments(engine, [listed(430, steady)], [HOOK], VolumeRule(factor=3.0))
    assert raised == []


async def test_marks_are_kept_with_who_and_the_note(engine: AsyncEngine) -> None:
    await record_comments(engine, [listed(70, [("3", FALSE, 62)])], [], VolumeRule())
    [comment] = await list_comments(engine, None)
    await mark(
        engine, comment.id, CommentState.ESCALATED, "Chuyển người phát ngôn: cần đính chính", "truc-ban"
    )
    [escalated] = await list_comments(engine, None, state=CommentState.ESCALATED)
    assert escalated.note == NOTE and escalated.state_by == "truc-ban"
    assert await list_comments(engine, None, state=CommentState.NEW) == []


async def test_answered_at_is_the_first_move_to_answered_or_hidden_and_stays(engine: AsyncEngine) -> None:
    await record_comments(engine, [listed(70, [("4", FALSE, 62), ("5", CALM[1], 63)])], [], VolumeRule())
    false, question = sorted(await list_comments(engine, None), key=lambda c: c.text != FALSE)
    await mark(engine, false.id, CommentState.SEEN, None, "truc-ban")
    await mark(engine, false.id, CommentState.ESCALATED, NOTE, "truc-ban")
    assert (await get_comment(engine, false.id)).answered_at is None  # type: ignore[union-attr]
    before = datetime.now(UTC)
    await mark(engine, false.id, CommentState.HIDDEN, None, "truc-ban")
    after = datetime.now(UTC)
    hidden = await get_comment(engine, false.id)
    assert hidden is not None and hidden.answered_at is not None
    assert before <= hidden.answered_at <= after
    # marked again later (escalated, answered): the first answer's time is kept, the state moves on
    await mark(engine, false.id, CommentState.ESCALATED, NOTE, "phat-ngon")
    await mark(engine, false.id, CommentState.ANSWERED, "Đã trả lời: thông tin chính thức", "phat-ngon")
    again = await get_comment(engine, false.id)
    assert again is not None and (again.state, again.answered_at) == ("answered", hidden.answered_at)
    assert again.state_at is not None and again.state_at > hidden.answered_at
    await mark(engine, question.id, CommentState.ANSWERED, "Đăng ký tại UBND phường", "truc-ban")
    answered = await get_comment(engine, question.id)
    assert answered is not None and answered.answered_at == answered.state_at


REPLY = "Chào chị Bích, người cao tuổi đăng ký tại trạm y tế phường. Sở Y tế Đà Nẵng."


def outcome(action_id: str, state: CommentActionState, **more: str) -> CommentActionResult:
    return CommentActionResult(
        content_id=CONTENT,
        channel="facebook",
        account="so-ttt-da-nang",
        comment_id="42_3",
        action_id=action_id,
        kind=CommentActionKind.REPLY,
        state=state,
        requested_by="Lê Hoàng Đức",
        **more,  # type: ignore[arg-type]
    )


async def test_a_reply_settles_once_and_comes_back_in_listings_as_the_offices_not_a_citizens(
    engine: AsyncEngine,
) -> None:
    await record_comments(engine, [listed(70, [("3", CALM[1], 62)])], [], VolumeRule())
    [asked] = await list_comments(engine, None)
    assert await comment_actions.start(engine, asked.id, "tra-loi-0001", CommentActionKind.REPLY)
    assert not await comment_actions.start(engine, asked.id, "tra-loi-0002", CommentActionKind.REPLY)  # 409
    stale = outcome("tra-loi-0000", CommentActionState.FAILED, error="an older action's")
    done = outcome("tra-loi-0001", CommentActionState.DONE, reply_id="42_r1", reply_text=REPLY)
    assert await comment_actions.settle(engine, [stale, done]) == [CONTENT]  # the older one is ignored
    await record_comments(engine, [listed(80, [("3", CALM[1], 62), ("r1", REPLY, 75)])], [], VolumeRule())
    [only] = await list_comments(engine, None)
    assert (only.state, only.reply_text, only.action_state) == (CommentState.ANSWERED, REPLY, "done")
    assert only.state_by == "Lê Hoàng Đức" and only.action_error is None


async def test_a_failed_action_keeps_the_state_and_shows_why(engine: AsyncEngine) -> None:
    await record_comments(engine, [listed(70, [("3", FALSE, 62)])], [], VolumeRule())
    [claim] = await list_comments(engine, None)
    assert await comment_actions.start(engine, claim.id, "an-bl-00001", CommentActionKind.MODERATE)
    why = "channel zalo cannot reply to or hide comments through Loa"
    await comment_actions.settle(engine, [outcome("an-bl-00001", CommentActionState.FAILED, error=why)])
    [after] = await list_comments(engine, None)
    assert (after.state, after.action_state, after.action_error) == (CommentState.NEW, "failed", why)
    assert await comment_actions.start(engine, claim.id, "an-bl-00002", CommentActionKind.MODERATE)  # again
