"""The comment-action runner's retries on a SQLite job store with a fake of our own port
(``CommentActions``): transient errors back off and look for an in-doubt reply before replying again;
they give up naming the platform's reset; a refusal is not retried."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from loa.channels import Account, ChannelAdapter, PermanentError, Post, PublishResult, TransientError
from loa.channels.comment_actions import CommentActions
from loa.events import CommentActionSettled, Content, Target, parse_delivery_event, utcnow
from loa.events.commands import CommentRef, CommentReply, ModerateComment, ReplyToComment
from loa.events.comment_actions import CommentActionResult, CommentActionState
from loa.publisher.accounts import AccountStore
from loa.publisher.comment_actions import ATTEMPTS_MAX, Backoff, CommentActionRunner
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import comment_actions, outbox

pytestmark = pytest.mark.unit

REPLY = "Cảm ơn anh Đức, Sở đã ghi nhận và sẽ trả lời trong ngày."


class Platform(CommentActions, ChannelAdapter):
    """A channel whose calls fail as told, recording what reached it."""

    name: ClassVar[str] = "facebook"
    moderation: ClassVar[str] = "hidden"

    def __init__(self) -> None:
        self.failures: list[Exception] = []
        self.replies: list[str] = []
        self.looked = 0
        self.reached_before_failing = False

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        raise NotImplementedError

    async def publish(self, post: Post, account: Account) -> PublishResult:
        raise NotImplementedError

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        raise NotImplementedError

    async def retract(self, previous: PublishResult, account: Account) -> None:
        raise NotImplementedError

    async def reply_to_comment(self, account: Account, comment_id: str, text: str) -> str:
        if self.failures:
            if self.reached_before_failing:
                self.replies.append(text)  # the platform took it, the answer was lost
            raise self.failures.pop(0)
        self.replies.append(text)
        return f"{comment_id}_{len(self.replies)}"

    async def find_comment_reply(self, account: Account, comment_id: str, text: str) -> str | None:
        self.looked += 1
        return f"{comment_id}_{len(self.replies)}" if text in self.replies else None

    async def moderate_comment(self, account: Account, comment_id: str) -> None:
        if self.failures:
            raise self.failures.pop(0)


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[CommentActionRunner]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await migrate(engine)
    accounts = AccountStore(engine, "facebook", Fernet(Fernet.generate_key()))
    await accounts.add("trang-chinh", {"page_access_token": "EAAG-bi-mat"}, {"page_id": "1029"})

    async def no_sleep(seconds: float) -> None:
        assert seconds <= 30  # never longer than WAIT_MAX

    made = CommentActionRunner(
        Platform(),
        JobStore(engine, "facebook"),
        accounts,
        Backoff(0.01, 0.05),
        owner="replica-a/facebook",
        lease=timedelta(seconds=60),
        sleep=no_sleep,
    )
    yield made
    await engine.dispose()


def reply() -> ReplyToComment:
    ref = CommentReply(
        content_id="lich-tiep-cong-dan",
        channel="facebook",
        account="trang-chinh",
        comment_id="1029_77",
        action_id=uuid.uuid4().hex,
        requested_by="Lê Hoàng Đức",
        text=REPLY,
    )
    return ReplyToComment(producer="loa-tracker", payload=ref)


async def settled(runner: CommentActionRunner) -> list[CommentActionResult]:
    async with runner.store.engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.payload))).scalars().all()
    return [e.payload for e in map(parse_delivery_event, rows) if isinstance(e, CommentActionSettled)]


async def test_a_timeout_after_the_platform_took_the_reply_is_found_not_replied_twice(
    runner: CommentActionRunner,
) -> None:
    platform = runner.adapter
    assert isinstance(platform, Platform)
    platform.failures = [TransientError("Graph API unreachable (ReadTimeout)", in_doubt=True)]
    platform.reached_before_failing = True
    await runner.apply(reply())
    assert platform.replies == [REPLY] and platform.looked == 1
    [outcome] = await settled(runner)
    assert outcome.state is CommentActionState.DONE and outcome.reply_id == "1029_77_1"
    async with runner.store.engine.connect() as conn:
        assert (await conn.execute(select(comment_actions.c.attempt))).scalar_one() == 2


async def test_transient_errors_give_up_after_the_attempts_naming_the_reset(
    runner: CommentActionRunner,
) -> None:
    platform = runner.adapter
    assert isinstance(platform, Platform)
    reset = utcnow() + timedelta(seconds=5)
    platform.failures = [
        TransientError("(#4) Application request limit reached", retry_at=reset)
    ] * ATTEMPTS_MAX
    await runner.apply(
        ModerateComment(
            producer="loa-tracker", payload=CommentRef(**reply().payload.model_dump(exclude={"text"}))
        )
    )
    [outcome] = await settled(runner)
    assert outcome.state is CommentActionState.FAILED and outcome.error is not None
    assert "(#4) Application request limit reached" in outcome.error and reset.isoformat() in outcome.error
    assert platform.failures == []  # every attempt was made


async def test_a_reset_far_away_fails_at_once_and_a_refusal_is_not_retried(
    runner: CommentActionRunner,
) -> None:
    platform = runner.adapter
    assert isinstance(platform, Platform)
    far = utcnow() + timedelta(minutes=10)
    platform.failures = [TransientError("rate limited", retry_at=far), TransientError("never reached")]
    await runner.apply(reply())
    assert len(platform.failures) == 1  # one attempt: the commands partition does not wait 10 minutes
    platform.failures = [PermanentError("(#100) Object does not exist", code="100/33"), TransientError("x")]
    await runner.apply(reply())
    first, second = await settled(runner)
    assert (first.state, second.state) == (CommentActionState.FAILED, CommentActionState.FAILED)
    assert second.error is not None and "(#100)" in second.error and len(platform.failures) == 1


async def test_a_lease_taken_over_between_attempts_stops_the_runner_before_calling_again(
    runner: CommentActionRunner,
) -> None:
    """This replica stalled past its lease while it waited to retry, and another replica took the
    action: the next attempt is not made (the other one has it now), and nothing is settled here."""
    platform = runner.adapter
    assert isinstance(platform, Platform)
    platform.failures = [TransientError("Graph API unreachable (ReadTimeout)", in_doubt=True)]

    async def taken_over(seconds: float) -> None:
        async with runner.store.tx() as conn:
            await conn.execute(
                update(comment_actions).values(
                    lease_owner="replica-b/facebook", lease_expires_at=utcnow() + timedelta(seconds=60)
                )
            )

    runner.sleep = taken_over
    await runner.apply(reply())
    assert platform.failures == [] and platform.replies == [] and platform.looked == 0
    assert await settled(runner) == []
    async with runner.store.engine.connect() as conn:
        row = (await conn.execute(select(comment_actions))).one()
    assert (row.state, row.attempt, row.lease_owner) == ("sending", 1, "replica-b/facebook")
