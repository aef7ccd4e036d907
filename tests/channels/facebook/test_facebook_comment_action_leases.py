"""Two replicas given the same ``comment.reply`` (a consumer-group rebalance while the first is still
calling Graph): the action's lease keeps the second from calling, so the comment gets one reply and
one outcome; a lease that runs out with the action still ``sending`` (its holder died) makes it in
doubt, and the reply already made is found, not made again. SQLite and PostgreSQL job stores, the
Graph emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from loa.channels import Account
from loa.events import utcnow
from loa.events.commands import CommentReply, ReplyToComment
from loa.events.comment_actions import CommentActionState
from loa.publisher.accounts import AccountStore
from loa.publisher.comment_actions import CommentActionRunner
from loa.publisher.store import action_leases
from loa.publisher.store.action_leases import Claim
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import comment_actions
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.sandbox.facebook import Page
from services.sandbox.facebook_comments import comments_of
from tests.channels.facebook.commenting import LEASE, REPLY, citizen_comment, outcomes, ref, replica
from tests.channels.facebook.helpers import FakeContext

pytestmark = pytest.mark.integration


class HeldGraph(FacebookAdapter):
    """The real Graph calls, each reply held until the test lets it go; counts what reached Graph."""

    def __init__(self, context: FakeContext, settings: FacebookSettings) -> None:
        super().__init__(context, settings)  # type: ignore[arg-type]
        self.calling = asyncio.Event()
        self.go = asyncio.Event()
        self.replies = 0
        self.lookups = 0

    async def reply_to_comment(self, account: Account, comment_id: str, text: str) -> str:
        self.replies += 1
        self.calling.set()
        await self.go.wait()
        return await super().reply_to_comment(account, comment_id, text)

    async def find_comment_reply(self, account: Account, comment_id: str, text: str) -> str | None:
        self.lookups += 1
        return await super().find_comment_reply(account, comment_id, text)


Replicas = tuple[CommentActionRunner, CommentActionRunner]


@pytest.fixture
async def replicas(
    db_url: str, context: FakeContext, fb_settings: FacebookSettings, account: Account
) -> AsyncIterator[Replicas]:
    """Replicas A and B of the Facebook publisher: one job store, each its own engine and adapter."""
    made: list[CommentActionRunner] = []
    key = Fernet(Fernet.generate_key())  # LOA_CREDENTIALS_KEY: the same on every replica
    for replica_id in ("replica-a", "replica-b"):
        engine = make_engine(db_url)
        await migrate(engine)
        accounts = AccountStore(engine, "facebook", key)
        if not made:
            await accounts.add(
                account.name, {"page_access_token": account.secret("page_access_token")}, account.options
            )
        graph = HeldGraph(context, fb_settings)
        made.append(replica(graph, JobStore(engine, "facebook"), accounts, replica_id, poll=0.05))
    yield made[0], made[1]
    for runner in made:
        assert isinstance(runner.adapter, HeldGraph)
        await runner.adapter.aclose()
        await runner.store.engine.dispose()


def graph_of(runner: CommentActionRunner) -> HeldGraph:
    assert isinstance(runner.adapter, HeldGraph)
    return runner.adapter


async def test_the_same_reply_given_to_two_replicas_is_made_once(
    replicas: Replicas, account: Account, page: Page, graph_url: str, clock: Callable[[timedelta], None]
) -> None:
    a, b = replicas
    _, comment_id = citizen_comment(graph_url, page, clock)
    fields = ref(account, comment_id, text=REPLY)
    command = ReplyToComment(producer="loa-tracker", payload=CommentReply(**fields))

    first = asyncio.create_task(a.apply(command))
    await asyncio.wait_for(graph_of(a).calling.wait(), 10)  # A is calling Graph: the rebalance now
    graph_of(b).go.set()  # B's calls would go through at once: only the lease stops it
    second = asyncio.create_task(b.apply(command))
    await asyncio.sleep(0.5)  # B has met A's lease about ten times
    assert not second.done(), "B went on while A held the action"
    assert comments_of(comment_id) == []
    graph_of(a).go.set()
    await asyncio.wait_for(asyncio.gather(first, second), 30)

    [reply] = comments_of(comment_id)
    assert reply.message == REPLY and reply.page.id == page.id
    assert (graph_of(a).replies, graph_of(b).replies, graph_of(b).lookups) == (1, 0, 0)
    [outcome] = await outcomes(a)  # one store: B's outbox is A's
    assert outcome.state is CommentActionState.DONE and outcome.reply_id == reply.id
    async with a.store.engine.connect() as conn:
        row = (await conn.execute(select(comment_actions))).one()
    assert (row.state, row.attempt, row.lease_owner, row.lease_expires_at) == (
        "done",
        1,
        "replica-a/facebook",
        None,
    )


@pytest.mark.parametrize("left", [timedelta(seconds=-5), timedelta(seconds=1)], ids=["expired", "expiring"])
async def test_a_holder_that_died_mid_call_leaves_its_reply_found_not_made_again(
    replicas: Replicas,
    account: Account,
    page: Page,
    graph_url: str,
    clock: Callable[[timedelta], None],
    left: timedelta,
) -> None:
    """A took the action and Graph made the reply; A died before settling. B waits out what is left of
    A's lease (``expiring``; ``expired``: nothing), then looks under the comment first."""
    a, b = replicas
    _, comment_id = citizen_comment(graph_url, page, clock)
    fields = ref(account, comment_id, text=REPLY)
    graph_of(a).go.set()
    made = await a.adapter.reply_to_comment(account, comment_id, REPLY)  # type: ignore[attr-defined]
    now = utcnow()
    row: dict[str, object] = {**fields, "kind": "reply", "state": "sending", "attempt": 1}
    lease = {"lease_owner": "replica-a/facebook", "lease_expires_at": now + left}
    async with a.store.tx() as conn:
        await conn.execute(insert(comment_actions).values(**row, **lease, created_at=now, updated_at=now))

    graph_of(b).go.set()
    started = time.monotonic()
    await b.apply(ReplyToComment(producer="loa-tracker", payload=CommentReply(**fields)))
    assert time.monotonic() - started >= left.total_seconds() - 0.1  # nothing before A's lease ran out
    assert [r.id for r in comments_of(comment_id)] == [made]
    assert (graph_of(b).replies, graph_of(b).lookups) == (0, 1)
    [outcome] = await outcomes(b)
    assert outcome.state is CommentActionState.DONE and outcome.reply_id == made


async def test_two_replicas_recording_one_new_action_at_once_one_takes_it(
    replicas: Replicas, account: Account
) -> None:
    """PostgreSQL: the second insert waits for the first and fails on the key; SQLite: one writer."""
    a, b = replicas
    fields = ref(account, "1029_77", text=REPLY) | {"kind": "reply"}
    claims = await asyncio.gather(
        action_leases.claim(a.store, fields, a.owner, LEASE),
        action_leases.claim(b.store, fields, b.owner, LEASE),
    )
    assert sorted(claims) == sorted([Claim.NEW, Claim.HELD])
    # a replica restarted under its own id takes its own action back, in doubt
    holder = a if claims[0] is Claim.NEW else b
    assert await action_leases.claim(holder.store, fields, holder.owner, LEASE) is Claim.IN_DOUBT
