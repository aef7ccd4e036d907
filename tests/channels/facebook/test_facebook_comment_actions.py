"""Replying to and hiding a citizen's comment through the Facebook publisher's runtime, against the Graph
emulator and a real job store (SQLite and PostgreSQL): recorded before the call, settled after, once."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert

from loa.channels import Account
from loa.events import utcnow
from loa.events.commands import CommentRef, CommentReply, ModerateComment, ReplyToComment
from loa.events.comment_actions import CommentActionState
from loa.publisher.accounts import AccountStore
from loa.publisher.comment_actions import CommentActionRunner
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import comment_actions
from services.facebook.adapter import FacebookAdapter
from services.sandbox.facebook import Page
from services.sandbox.facebook_comments import comments_of, hidden
from services.webhook.adapter import WebhookAdapter
from tests.channels.facebook.commenting import REPLY, citizen_comment, outcomes, ref, replica
from tests.channels.facebook.helpers import FakeContext

pytestmark = pytest.mark.integration


@pytest.fixture
async def runner(
    db_url: str, adapter: FacebookAdapter, account: Account
) -> AsyncIterator[CommentActionRunner]:
    engine = make_engine(db_url)
    await migrate(engine)
    accounts = AccountStore(engine, "facebook", Fernet(Fernet.generate_key()))
    await accounts.add(
        account.name, {"page_access_token": account.secret("page_access_token")}, account.options
    )
    made = replica(adapter, JobStore(engine, "facebook"), accounts, "replica-a")
    yield made
    await engine.dispose()


async def test_a_reply_redelivered_is_made_once_and_its_outcome_sent_once(
    runner: CommentActionRunner,
    account: Account,
    page: Page,
    graph_url: str,
    clock: Callable[[timedelta], None],
) -> None:
    _, comment_id = citizen_comment(graph_url, page, clock)
    command = ReplyToComment(
        producer="loa-tracker", payload=CommentReply(**ref(account, comment_id, text=REPLY))
    )
    await runner.apply(command)
    await runner.apply(command)  # Kafka delivers it again

    [reply] = comments_of(comment_id)
    assert reply.message == REPLY and reply.page.id == page.id
    [outcome] = await outcomes(runner)
    assert outcome.state is CommentActionState.DONE
    assert outcome.reply_id == reply.id and outcome.reply_text == REPLY
    assert outcome.requested_by == "Lê Hoàng Đức"
    auth = {"Authorization": f"OAuth {page.token}"}
    listed = httpx.get(
        f"{graph_url}/v24.0/{comment_id}/comments", params={"fields": "id,message,from"}, headers=auth
    )
    assert [(r["id"], r["from"]["id"]) for r in listed.json()["data"]] == [(reply.id, page.id)]


async def test_an_in_doubt_reply_is_found_under_the_comment_not_made_again(
    runner: CommentActionRunner,
    adapter: FacebookAdapter,
    account: Account,
    page: Page,
    graph_url: str,
    clock: Callable[[timedelta], None],
) -> None:
    """A crash after the platform took the reply, before it was settled: the row is still ``sending``."""
    _, comment_id = citizen_comment(graph_url, page, clock)
    fields = ref(account, comment_id, text=REPLY)
    made = await adapter.reply_to_comment(account, comment_id, REPLY)
    now = utcnow()
    row: dict[str, object] = {**fields, "kind": "reply", "state": "sending", "attempt": 1}
    async with runner.store.tx() as conn:
        await conn.execute(insert(comment_actions).values(**row, created_at=now, updated_at=now))

    await runner.apply(ReplyToComment(producer="loa-tracker", payload=CommentReply(**fields)))
    assert [r.id for r in comments_of(comment_id)] == [made]
    [outcome] = await outcomes(runner)
    assert outcome.state is CommentActionState.DONE and outcome.reply_id == made


async def test_hide_hides_the_comment_and_the_listing_says_so(
    runner: CommentActionRunner,
    account: Account,
    page: Page,
    graph_url: str,
    clock: Callable[[timedelta], None],
) -> None:
    post_id, comment_id = citizen_comment(graph_url, page, clock)
    await runner.apply(
        ModerateComment(producer="loa-tracker", payload=CommentRef(**ref(account, comment_id)))
    )

    assert comment_id in hidden()
    auth = {"Authorization": f"OAuth {page.token}"}
    listed = httpx.get(
        f"{graph_url}/v24.0/{post_id}/comments", params={"fields": "id,is_hidden"}, headers=auth
    )
    marks = {c["id"]: c["is_hidden"] for c in listed.json()["data"]}
    assert marks[comment_id] is True and list(marks.values()).count(True) == 1
    [outcome] = await outcomes(runner)
    assert outcome.state is CommentActionState.DONE and outcome.moderation == "hidden"


async def test_an_unknown_comment_fails_with_graphs_message(
    runner: CommentActionRunner,
    account: Account,
    page: Page,
    graph_url: str,
    clock: Callable[[timedelta], None],
) -> None:
    post_id, _ = citizen_comment(graph_url, page, clock)
    missing = f"{post_id.partition('_')[2]}_404"  # on the Page's post, but no such comment
    await runner.apply(ModerateComment(producer="loa-tracker", payload=CommentRef(**ref(account, missing))))
    [outcome] = await outcomes(runner)
    assert outcome.state is CommentActionState.FAILED
    assert outcome.error is not None and missing in outcome.error and "does not exist" in outcome.error


async def test_another_pages_token_is_refused_as_not_permitted(
    runner: CommentActionRunner,
    account: Account,
    page: Page,
    graph_url: str,
    clock: Callable[[timedelta], None],
) -> None:
    """Graph's (#200): the token's Page does not own the post the comment is on."""
    from services.sandbox.facebook import state

    _, comment_id = citizen_comment(graph_url, page, clock)
    other = Page(
        str(300_000_000_000_000 + uuid.uuid4().int % 10**12), "Trang khác", f"EAAG{uuid.uuid4().hex}"
    )
    state().pages[other.id] = other
    await runner.accounts.store.update(account.name, credentials={"page_access_token": other.token})
    await runner.apply(
        ModerateComment(producer="loa-tracker", payload=CommentRef(**ref(account, comment_id)))
    )
    [outcome] = await outcomes(runner)
    assert (
        outcome.state is CommentActionState.FAILED and outcome.error is not None and "(#200)" in outcome.error
    )
    assert comment_id not in hidden()


async def test_a_channel_without_comment_actions_refuses_with_a_reason(
    db_url: str, context: FakeContext
) -> None:
    engine = make_engine(db_url)
    await migrate(engine)
    accounts = AccountStore(engine, "webhook", Fernet(Fernet.generate_key()))
    webhook = WebhookAdapter(context)  # type: ignore[arg-type]
    refusing = replica(webhook, JobStore(engine, "webhook"), accounts, "replica-a")
    fields = ref(Account(channel="webhook", name="cong-thong-tin"), "42", text=REPLY) | {"channel": "webhook"}
    await refusing.apply(ReplyToComment(producer="loa-tracker", payload=CommentReply(**fields)))
    [outcome] = await outcomes(refusing)
    assert outcome.state is CommentActionState.FAILED
    assert outcome.error == "channel webhook cannot reply to or hide comments through Loa " + (
        "(only facebook, youtube and x have comment actions)"
    )
    await engine.dispose()
    assert json.loads(json.dumps(outcome.model_dump(mode="json")))["channel"] == "webhook"
