"""The listener's store and loop on a real SQLite store, with readers that are fakes of our own port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import case, select, update

from loa.channels import Account, PermanentError, TransientError
from loa.channels.engagement import Observation
from loa.events import (
    Comments,
    Delivery,
    DeliveryState,
    DeliveryStatus,
    Engagement,
    Metric,
    PostComment,
    utcnow,
)
from services.listener.follow import apply_statuses
from services.listener.poller import Poller
from services.listener.schedule import Read
from services.listener.settings import ListenerSettings
from services.listener.store import FollowedStore
from services.listener.tables import followed

pytestmark = pytest.mark.unit

CONTENT = "thong-bao-lich-tiep-dan-2026"


class FakeReader:
    channel: ClassVar[str] = "facebook"
    lists_comments: ClassVar[bool] = True

    def __init__(self, comments: tuple[PostComment, ...] = ()) -> None:
        self.calls: list[str] = []
        self.comment_calls: list[str] = []
        self.fail: Exception | None = None
        self.comments = comments

    async def read(self, account: Account, external_id: str) -> Observation:
        self.calls.append(external_id)
        if self.fail is not None:
            raise self.fail
        return Observation({Metric.REACTIONS: 10 * len(self.calls), Metric.SHARES: 2})

    async def read_comments(self, account: Account, external_id: str) -> Observation:
        self.comment_calls.append(external_id)
        if self.fail is not None:
            raise self.fail
        return Observation({}, comments=self.comments)

    def close(self) -> None:
        pass


class FakeAccounts:
    async def get(self, channel: str, name: str) -> Account | None:
        return Account(channel=channel, name=name)


def status(
    account: str, state: DeliveryState, external_id: str | None = None, sequence: int = 3
) -> DeliveryStatus:
    return DeliveryStatus(
        payload=Delivery(
            content_id=CONTENT,
            version=1,
            channel="facebook",
            account=account,
            state=state,
            sequence=sequence,
            external_id=external_id,
        )
    )


@pytest.fixture
def listener_settings(tmp_path: Path) -> ListenerSettings:
    return ListenerSettings(
        mode="development",
        listener_database_url=f"sqlite+aiosqlite:///{tmp_path / 'listener.db'}",
        listener_schedule="1s,1h",
        listener_comment_schedule="1s,30m,2h",
        listener_then_every="1d",
        listener_follow_for="2d",
    )


@pytest.fixture
async def store(listener_settings: ListenerSettings) -> AsyncIterator[FollowedStore]:
    opened = await FollowedStore.open(listener_settings.listener_database_url)
    yield opened
    await opened.close()


def poller(
    settings: ListenerSettings,
    store: FollowedStore,
    reader: FakeReader,
    sent: list[Engagement],
    listed: list[Comments] | None = None,
) -> Poller:
    async def emit(sample: Engagement | Comments) -> None:
        if isinstance(sample, Engagement):
            sent.append(sample)
        elif listed is not None:
            listed.append(sample)

    return Poller(settings, store, {"facebook": reader}, FakeAccounts(), emit)


async def follow(store: FollowedStore, settings: ListenerSettings, *accounts: str) -> None:
    events = [status(a, DeliveryState.PUBLISHED, f"1000_{i}") for i, a in enumerate(accounts)]
    await apply_statuses(store, events, {"facebook": settings.schedules()})


async def due_now(store: FollowedStore, kind: Read = Read.FIGURES) -> None:
    """Bring every followed post's next read of ``kind`` to now (instead of sleeping a schedule
    step); the other kind's stays in the future."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(followed)
            .where(followed.c.next_poll_at.is_not(None))
            .values(
                next_poll_at=case(
                    (followed.c.kind == kind.value, utcnow()), else_=utcnow() + timedelta(days=9)
                )
            )
        )


async def next_reads(store: FollowedStore) -> dict[Read, datetime | None]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(followed.c.kind, followed.c.next_poll_at))
        return {Read(kind): at for kind, at in rows}


async def test_a_published_post_is_polled_its_sample_sent_and_the_schedule_survives_a_restart(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    await follow(store, listener_settings, "trang-so-tttt")
    first = await store.next_due()
    assert first is not None and first - utcnow() < timedelta(seconds=2)
    await due_now(store)
    reader, sent = FakeReader(), list[Engagement]()
    loop = poller(listener_settings, store, reader, sent)
    [post] = await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1))
    assert await loop.poll(post) == "read"
    assert [s.metrics for s in sent] == [{Metric.REACTIONS: 10, Metric.SHARES: 2}]
    assert sent[0].external_id == "1000_0" and sent[0].account == "trang-so-tttt"
    after = await store.next_due()
    assert after is not None and timedelta(minutes=59) < after - utcnow() <= timedelta(hours=1)

    reopened = await FollowedStore.open(listener_settings.listener_database_url)  # a restart
    try:
        assert await reopened.next_due() == after
        assert await reopened.claim("another", limit=10, lease=timedelta(minutes=1)) == []  # not due yet
    finally:
        await reopened.close()


async def test_two_replicas_never_claim_the_same_post(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    await follow(store, listener_settings, *(f"trang-{i}" for i in range(6)))
    await due_now(store)
    one = await store.claim("replica-1", limit=4, lease=timedelta(minutes=1))
    two = await store.claim("replica-2", limit=4, lease=timedelta(minutes=1))
    assert len(one) == 4 and len(two) == 2
    assert not {p.id for p in one} & {p.id for p in two}


async def test_a_rate_limit_closes_the_account_until_the_reset_and_its_other_posts_wait_without_a_call(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    await follow(store, listener_settings, "trang-a")
    await apply_statuses(
        store,
        [status("trang-a", DeliveryState.PUBLISHED, "1000_9").model_copy(update={})],
        {"facebook": listener_settings.schedules()},
    )
    await due_now(store)
    reader, sent = FakeReader(), list[Engagement]()
    reset = datetime.now(UTC) + timedelta(minutes=15)
    reader.fail = TransientError("(#32) Page request limit reached", code=32, retry_at=reset)
    loop = poller(listener_settings, store, reader, sent)
    [post] = await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1))
    assert await loop.poll(post) == "rate_limited"
    due = await store.next_due()
    assert due is not None and due > reset  # after the reset, with the margin
    # the gate is the account's: a second post of it (due now) waits without calling
    await due_now(store)
    [again] = await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1))
    assert await loop.poll(again) == "waiting_for_limit"
    assert len(reader.calls) == 1 and sent == []


async def test_a_post_gone_from_the_platform_or_retracted_is_no_longer_followed(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    await follow(store, listener_settings, "trang-a", "trang-b")
    await due_now(store)
    reader, sent = FakeReader(), list[Engagement]()
    reader.fail = PermanentError("Object with ID '1000_0' does not exist", code="100/33")
    loop = poller(listener_settings, store, reader, sent)
    claimed = await store.claim(loop.owner, limit=1, lease=timedelta(minutes=1))
    assert await loop.poll(claimed[0]) == "gone"
    await apply_statuses(
        store,
        [status("trang-b", DeliveryState.RETRACTED, sequence=9)],
        {"facebook": listener_settings.schedules()},
    )
    assert await store.counts() == {"followed": 0, "stopped": 2}
    assert await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1)) == []


async def test_comments_are_read_on_their_own_schedule_and_go_out_when_there_are_any(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    said = PostComment(
        external_id="1000_0_7", author="Võ Minh Khoa", text="Đây là tin giả, đừng tin!", created_at=utcnow()
    )
    await follow(store, listener_settings, "trang-so-tttt")
    first = await next_reads(store)
    assert set(first) == {Read.FIGURES, Read.COMMENTS}  # a row each, both a second after publication
    await due_now(store, Read.COMMENTS)
    sent, listed = list[Engagement](), list[Comments]()
    reader = FakeReader((said,))
    loop = poller(listener_settings, store, reader, sent, listed)
    [post] = await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1))
    assert post.kind is Read.COMMENTS
    assert await loop.poll(post) == "read"
    assert (reader.comment_calls, reader.calls, sent) == (["1000_0"], [], [])  # no figures read
    [comments] = listed
    assert comments.comments == [said]
    assert (comments.content_id, comments.account, comments.external_id) == (
        CONTENT,
        "trang-so-tttt",
        "1000_0",
    )
    # the comments' next read is their table's next step (30 min), the figures' stays where it was
    after = await next_reads(store)
    comments_at, figures_at = after[Read.COMMENTS], after[Read.FIGURES]
    assert comments_at is not None and timedelta(minutes=29) < comments_at - utcnow() <= timedelta(minutes=30)
    assert figures_at is not None and figures_at - utcnow() > timedelta(days=8)

    await due_now(store, Read.FIGURES)
    [figures] = await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1))
    assert figures.kind is Read.FIGURES and await loop.poll(figures) == "read"
    assert [s.metrics for s in sent] == [{Metric.REACTIONS: 10, Metric.SHARES: 2}] and len(listed) == 1
    figures_next = (await next_reads(store))[Read.FIGURES]
    assert figures_next is not None and timedelta(minutes=59) < figures_next - utcnow() <= timedelta(hours=1)

    quiet = poller(listener_settings, store, FakeReader(), [], listed)  # nothing listed: no event
    await due_now(store, Read.COMMENTS)
    [again] = await store.claim(quiet.owner, limit=10, lease=timedelta(minutes=1))
    assert await quiet.poll(again) == "read" and len(listed) == 1


async def test_a_comment_read_rate_limited_closes_the_account_for_the_figures_too(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    await follow(store, listener_settings, "trang-a")
    await due_now(store, Read.COMMENTS)
    reader, sent = FakeReader(), list[Engagement]()
    reset = datetime.now(UTC) + timedelta(minutes=15)
    reader.fail = TransientError("(#32) Page request limit reached", code=32, retry_at=reset)
    loop = poller(listener_settings, store, reader, sent)
    [comments] = await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1))
    assert await loop.poll(comments) == "rate_limited"
    await due_now(store, Read.FIGURES)
    [figures] = await store.claim(loop.owner, limit=10, lease=timedelta(minutes=1))
    assert await loop.poll(figures) == "waiting_for_limit"  # the same gate: no call
    assert (reader.comment_calls, reader.calls) == (["1000_0"], [])
    polls = {
        (m.labels["kind"], m.labels["outcome"]): m.value
        for metric in loop.metrics.registry.collect()
        for m in metric.samples
        if m.name == "loa_listener_polls_total"
    }
    assert polls == {("comments", "rate_limited"): 1.0, ("figures", "waiting_for_limit"): 1.0}


async def test_posts_count_once_whatever_their_reads(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    await follow(store, listener_settings, "trang-a", "trang-b")
    assert await store.counts() == {"followed": 2, "stopped": 0}
    await store.stop(CONTENT, "facebook", "trang-b", "retracted")
    assert await store.counts() == {"followed": 1, "stopped": 1}


async def test_a_channel_whose_reader_lists_no_comments_gets_no_comment_reads(
    listener_settings: ListenerSettings, store: FollowedStore
) -> None:
    class ViewsOnly(FakeReader):
        lists_comments: ClassVar[bool] = False  # as the website's reader: page views, no comments

    loop = Poller(
        listener_settings, store, {"facebook": FakeReader(), "website": ViewsOnly()}, FakeAccounts(), emit
    )
    assert set(loop.tables["facebook"]) == {Read.FIGURES, Read.COMMENTS}
    assert set(loop.tables["website"]) == {Read.FIGURES}
    article = status("main", DeliveryState.PUBLISHED, "/tin-tuc/thong-cao-phao-hoa")
    article = article.model_copy(
        update={"payload": article.payload.model_copy(update={"channel": "website"})}
    )
    await apply_statuses(store, [article], loop.tables)
    assert set(await next_reads(store)) == {Read.FIGURES}


async def emit(_: Engagement | Comments) -> None:
    """Nothing to send in a test that polls nothing."""
