"""A hold on a natively scheduled YouTube video: ``publishAt`` cleared (private), nothing goes
public when its old time passes, and ``publish`` after the release sets it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from loa.channels.scheduling import whole_second_after
from services.sandbox.frame import sandbox
from services.sandbox.youtube_state import state
from tests.channels.youtube.support import account, content, put_video

pytestmark = pytest.mark.integration
CHUNK = 256 * 1024


@pytest.fixture
def clock() -> Iterator[None]:
    before = sandbox.clock_offset
    yield
    sandbox.clock_offset = before


def updates_of(video_id: str) -> int:
    return sum(1 for r in sandbox.list("youtube", "update") if r.data.get("id") == video_id)


async def test_hold_clears_publish_at_and_release_sets_it_again(make_adapter, store, clock) -> None:
    video = put_video(store, CHUNK)
    adapter, _ = make_adapter()
    acct = account()
    due = datetime.now(UTC) + timedelta(hours=2)
    scheduled = content([video], publish_at=due, title="Đính chính lịch họp báo Sở Y tế Đà Nẵng")
    post = await adapter.render(scheduled, scheduled.targets[0], acct)
    result = await adapter.publish(post, acct)
    at = whole_second_after(due).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert state().videos[result.external_id].status["publishAt"] == at

    assert await adapter.pull_back(post, result, acct)
    status = state().videos[result.external_id].status
    assert status["privacyStatus"] == "private" and "publishAt" not in status
    assert await adapter.find_existing(post, acct) is None, "pulled back is not published"
    updates = updates_of(result.external_id)
    assert await adapter.pull_back(post, result, acct), "a crash repeats it: harmless"
    assert updates_of(result.external_id) == updates, "nothing left to change the second time"

    again = await adapter.publish(post, acct)  # the release: no second upload
    assert again.external_id == result.external_id and again.scheduled_natively
    status = state().videos[result.external_id].status
    assert status == {**status, "privacyStatus": "private", "publishAt": at}, "at its original time"
    assert len(state().sessions) == 1, "uploaded once"


async def test_a_pulled_back_video_stays_private_when_its_old_time_passes(make_adapter, store, clock) -> None:
    video = put_video(store, CHUNK)
    adapter, _ = make_adapter()
    acct = account()
    scheduled = content([video], publish_at=datetime.now(UTC) + timedelta(hours=2))
    post = await adapter.render(scheduled, scheduled.targets[0], acct)
    result = await adapter.publish(post, acct)
    assert await adapter.pull_back(post, result, acct)
    sandbox.clock_offset += timedelta(hours=3)
    state().videos[result.external_id].refresh(sandbox.now())
    assert state().videos[result.external_id].status["privacyStatus"] == "private", "never public"
