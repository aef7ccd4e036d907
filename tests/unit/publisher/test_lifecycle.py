"""The delivery state machine: the table decides every move, and the architecture page shows that table."""

from __future__ import annotations

import itertools
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from loa.events import DeliveryState, utcnow
from loa.publisher.job import Job
from loa.publisher.lifecycle import TRANSITIONS, Changes, IllegalTransitionError, Move, S, moved
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.rows import mutable_columns
from loa.publisher.store.schema import outbox

ARCHITECTURE = Path(__file__).parents[3] / "docs" / "architecture.md"
TABLE_MARKER = "<!-- lifecycle table:"

LEGAL = [(source, target) for source, targets in TRANSITIONS.items() for target in targets]
ILLEGAL = [pair for pair in itertools.product(DeliveryState, repeat=2) if pair not in LEGAL]


def _job(state: S) -> Job:
    return Job(
        id=7,
        content_id="c1",
        version=1,
        channel="tin",
        account="a",
        operation="publish",
        state=state,
        due_at=None,
        attempt=1,
        attempt_floor=0,
        post=None,
        result=None,
        native=False,
        error=None,
        note=None,
        retract_requested=False,
        parked_version=None,
        lease_owner="me",
        lease_expires_at=utcnow() + timedelta(seconds=30),
    )


def test_the_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(DeliveryState)
    targets = {target for targets in TRANSITIONS.values() for target in targets}
    assert targets == set(DeliveryState) - {S.RECEIVED}  # every state but the first is reachable


def test_only_cancelled_and_retracted_end_for_good_and_every_unfinished_state_has_a_way_out() -> None:
    assert {state for state, targets in TRANSITIONS.items() if not targets} == {S.CANCELLED, S.RETRACTED}
    for state in DeliveryState:
        assert state.is_final or TRANSITIONS[state], f"{state} is not final yet has no way out"


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{s}->{t}" for s, t in LEGAL])
def test_every_legal_move_passes(source: S, target: S) -> None:
    new = moved(_job(source), target, {"note": "why"})
    assert (new.state, new.note) == (target, "why")
    assert (new.lease_owner, new.lease_expires_at) == (None, None)  # released unless kept


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s}->{t}" for s, t in ILLEGAL])
def test_every_illegal_move_raises_naming_the_job_and_both_states(source: S, target: S) -> None:
    with pytest.raises(IllegalTransitionError, match=f"job 7: {source} → {target} is not a legal move"):
        moved(_job(source), target, {})


def test_a_move_that_keeps_the_lease_keeps_it() -> None:
    expires = utcnow() + timedelta(minutes=1)
    new = moved(_job(S.SCHEDULED), S.PUBLISHING, {"lease_owner": "me", "lease_expires_at": expires})
    assert (new.lease_owner, new.lease_expires_at) == ("me", expires)


async def test_the_store_refuses_an_illegal_move_and_writes_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await migrate(engine)
    store = JobStore(engine, "tin")
    async with store.tx() as conn:
        job = await store.create(
            conn, content_id="c1", version=1, account="a", post=None, state=S.SCHEDULED, due_at=utcnow()
        )
    assert job is not None
    async with store.tx() as conn:
        with pytest.raises(IllegalTransitionError, match="scheduled → retracted"):
            await store.transition(conn, job, S.RETRACTED)
        with pytest.raises(IllegalTransitionError, match="scheduled → retrying"):
            await store.transition_many(conn, [Move(job, S.RETRYING, {})], owner=None)
    async with store.tx() as conn:
        assert (await store.get(conn, job.id)) == job
        events = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
        assert events == 1  # its `scheduled`: nothing of the refused moves
    await engine.dispose()


def test_changes_name_every_field_a_change_may_write() -> None:
    """``Changes`` repeats the job's mutable fields for the type checker: it must not drift."""
    identity = {"id", "content_id", "version", "channel", "account", "state", "post", "unit", "priority"}
    assert set(Changes.__annotations__) == {f.name for f in fields(Job)} - identity
    assert set(Changes.__annotations__) == set(mutable_columns(_job(S.SCHEDULED))) - {"state"}


def _rendered_table() -> list[str]:
    """The lifecycle table as the architecture page shows it, from the code's table."""
    lines = ["| From | To | Why |", "|---|---|---|"]
    for source, targets in TRANSITIONS.items():
        if not targets:
            lines.append(f"| `{source}` | — | final: nothing moves it again |")
        for target, why in targets.items():
            lines.append(f"| `{source}` | `{target}` | {why} |")
    return lines


def test_the_architecture_page_shows_the_code_table() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith(TABLE_MARKER)) + 1
    end = next(i for i in range(start, len(text)) if not text[i].startswith("|"))
    expected = "\n".join(_rendered_table())
    assert "\n".join(text[start:end]) == expected, f"docs/architecture.md should show:\n{expected}"
