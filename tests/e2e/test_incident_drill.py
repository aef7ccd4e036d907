"""Issue #17's acceptance drill, in Vietnamese, on the real stack: an incident from start to report.

Real Kafka, MinIO and PostgreSQL (the tracker's store); the ingest, the tracker and the publishers of
Facebook, Zalo, YouTube, X and the website, each as the other e2e tests start them
(``incident_drill_stage``); the sandbox stands for the platforms. People act through the services'
APIs: the CMS and the spokesperson through the ingest, the duty operator and the spokesperson through
the tracker.

1. the CMS submits 20 contents of two units, due within a minute (unit A's in 12 s, half of unit B's
   in 30 s, the rest in 60 s): nothing is natively scheduled, Loa keeps them until their time;
2. the operator opens an incident of both units; 3. holds unit B ("Tạm dừng phát hành");
4. unit A's contents go out; the spokesperson corrects A's first article on all five channels, linked
   to the original on each (Facebook comment and pin, X reply, YouTube description line, Zalo article
   naming its original and a broadcast, the website's notice on the original);
5. the spokesperson retracts A's second article everywhere; 6. after unit B's first due time has
   passed, the operator releases the hold: what is late is sent now (the operator's choice), the rest
   goes at its own time; 7. the incident is closed and its report lists every step, in order, with times.

Checked against the platforms' received requests (``sandbox.records``, with their times) and the
website's bucket: nothing of unit B reached a platform before the release, every post went out once,
and every delivery ends where it should in the tracker.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bench.drills.verdict import Fed, Post, Verdict, counts, judge, posts
from bench.e2e.observe import delivery_of
from loa.channels.corrections import link_account
from loa.events import LATE_NOTE, DeliveryState, utcnow
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.text import slugify
from services.sandbox.client import SandboxClient
from services.sandbox.frame import Record
from services.sandbox.frame import sandbox as sandbox_state
from services.sandbox.youtube_state import state as youtube_state
from services.tracker.i18n import EVENTS
from services.website.site.entries import page_key
from tests.channels.youtube.support import TlsSandbox
from tests.e2e.conftest import StartRun
from tests.e2e.incident_drill_stage import (
    ACCOUNTS,
    CHANNELS,
    CMS,
    INGEST_SPOKESPERSON,
    OPERATOR,
    SOCIAL,
    SPOKESPERSON,
    UNIT_A,
    UNIT_B,
    VIEWER,
    Ingest,
    Planned,
    channel_runs,
    drill_media,
    drill_tracker,
    payload,
    plan,
    running_ingest,
    tracker_auth,
)
from tests.integration.tracker.support import create_topics, running_tracker

pytestmark = pytest.mark.e2e

DUE_A, DUE_B_LATE, DUE_B_ON_TIME = 12.0, 30.0, 45.0
"""Seconds from the submission to each group's ``publish_at``."""
WAIT = 90.0
"""The longest any step may take on a loaded machine before the drill fails."""
S = DeliveryState
INCIDENT_TITLE = "Tin sai về số nhà bị sập do bão số 13 tại Đà Nẵng"
HOLD_REASON = "Tạm dừng tin của Sở Y tế trong lúc xác minh số liệu sau bão số 13"
CORRECTION_TITLE = "Đính chính: bão số 13 làm sập 2 nhà ở Đà Nẵng, không phải 12 nhà"
RETRACT_REASON = "Gỡ bài: thông tin chưa được kiểm chứng, đã có đính chính"


def did(content_id: str, channel: str, account: str | None = None) -> str:
    return f"{content_id}:{channel}:{account or ACCOUNTS[channel]}"


def _mentions(r: Record, marker: str) -> bool:
    return marker in json.dumps(r.data, ensure_ascii=False)


def records(platform: str | None = None, kind: str | None = None) -> list[Record]:
    return sandbox_state.list(platform, kind)


@dataclass
class Drill:
    """The people's doors (the ingest, the tracker) and what the drill has done so far."""

    ingest: httpx.AsyncClient
    doors: Ingest
    tracker: httpx.AsyncClient
    media: MediaStore
    contents: list[Planned]
    times: dict[str, datetime] = field(default_factory=dict)
    late_sent: set[str] = field(default_factory=set)

    def of(self, unit: str) -> list[Planned]:
        return [p for p in self.contents if p.unit == unit]

    def dids(self, contents: Iterable[Planned]) -> list[str]:
        return [did(p.id, c) for p in contents for c in p.channels]

    async def deliveries(self) -> dict[str, dict[str, Any]]:
        r = await self.tracker.get(
            "/api/v1/deliveries", params={"page_size": 500}, headers=tracker_auth(VIEWER)
        )
        assert r.status_code == 200, r.text
        return {d["id"]: d for d in r.json()["items"]}

    async def until(
        self, ids: Iterable[str], ok: Callable[[dict[str, Any]], bool], what: str, within: float = WAIT
    ) -> dict[str, dict[str, Any]]:
        """Poll the tracker until every delivery of ``ids`` satisfies ``ok``; fail naming those that don't."""
        wanted = list(ids)
        deadline = time.monotonic() + within
        while True:
            found = await self.deliveries()
            missing = [i for i in wanted if i not in found or not ok(found[i])]
            if not missing:
                return found
            if time.monotonic() > deadline:
                states = {i: found[i]["state"] if i in found else "—" for i in missing}
                raise AssertionError(f"{what}: not within {within:.0f} s: {states}")
            await asyncio.sleep(0.2)

    async def in_state(
        self, ids: Iterable[str], state: DeliveryState, what: str
    ) -> dict[str, dict[str, Any]]:
        return await self.until(ids, lambda d: d["state"] == state.value, what)

    async def submit(self, who: str, body: dict[str, Any]) -> None:
        r = await self.ingest.post("/api/v1/contents", json={"payload": body}, headers=self.doors.auth(who))
        assert r.status_code == 202, r.text

    async def act(self, path: str, who: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        r = await self.tracker.post(path, json=body, headers=tracker_auth(who))
        assert r.status_code == status, r.text
        return dict(r.json())


async def _schedule_twenty(d: Drill, media: list[Any]) -> None:
    for p in d.contents:
        await d.submit(CMS, payload(p, media))
    await d.until(d.dids(d.contents), lambda x: x["state"] != S.RECEIVED.value, "every delivery scheduled")


async def _open_incident(d: Drill) -> int:
    body = {"title": INCIDENT_TITLE, "severity": "high", "units": [UNIT_A, UNIT_B]}
    incident = await d.act("/api/v1/incidents", OPERATOR, body, 201)
    return int(incident["id"])


async def _hold_unit_b(d: Drill) -> str:
    hold = await d.act("/api/v1/holds", OPERATOR, {"reason": HOLD_REASON, "unit": UNIT_B}, 201)
    d.times["held"] = datetime.fromisoformat(hold["held_at"])
    asked = time.monotonic()
    await d.in_state(d.dids(d.of(UNIT_B)), S.HELD, "unit B held on every publisher")
    print(
        f"hold of unit B in effect on every publisher, as the tracker shows: {time.monotonic() - asked:.2f} s"
    )
    d.times["held_everywhere"] = utcnow()
    return str(hold["id"])


async def _correct(d: Drill, original: Planned, media: list[Any]) -> Planned:
    correction = Planned(f"{original.id}-dinh-chinh", UNIT_A, CORRECTION_TITLE, CHANNELS, utcnow())
    body = payload(
        correction,
        media,
        {"facebook": {"pin": True}, "zalo": {"notify_followers": True}},
        kind="correction",
        corrects=original.id,
        publish_at=None,
    )
    await d.submit(INGEST_SPOKESPERSON, body)
    steps = [did(correction.id, c) for c in CHANNELS] + [
        did(correction.id, c, link_account(ACCOUNTS[c])) for c in SOCIAL
    ]

    def done(x: dict[str, Any]) -> bool:
        return bool(x["state"] == S.PUBLISHED.value)

    await d.until(steps, done, "the correction and its link steps published")
    return correction


async def _retract(d: Drill, content: Planned) -> None:
    await d.act(f"/api/v1/contents/{content.id}/retract", SPOKESPERSON, {"reason": RETRACT_REASON}, 202)
    await d.in_state(d.dids([content]), S.RETRACTED, "the retraction on every channel")


async def _release(d: Drill, hold_id: str, due_late: datetime) -> None:
    # the first of unit B's times passes while it is held (a wait for the clock, not for the system)
    await asyncio.sleep(max(0.0, (due_late - utcnow()).total_seconds() + 1.0))
    _nothing_of_unit_b_anywhere(d)
    d.times["released"] = utcnow()
    await d.act(f"/api/v1/holds/{hold_id}/release", OPERATOR, {"reason": "Số liệu đã được xác minh"}, 202)


async def _send_late_ones_now(d: Drill) -> dict[str, dict[str, Any]]:
    """What the release left late, the operator sends now; the rest goes at its time."""
    wanted = d.dids(d.of(UNIT_B))
    deadline = time.monotonic() + WAIT
    while True:
        late = await d.tracker.get("/api/v1/holds/late", headers=tracker_auth(VIEWER))
        for item in late.json():
            # listed only once a publisher has said its time passed (never the whole hold at once)
            assert item["note"] == LATE_NOTE, item
            if item["id"] not in d.late_sent:
                body = {"action": "send_now", "reason": "Đăng ngay sau khi xác minh"}
                await d.act(f"/api/v1/deliveries/{item['id']}/late", OPERATOR, body, 202)
                d.late_sent.add(item["id"])
        found = await d.deliveries()
        if all(found[i]["state"] == S.PUBLISHED.value for i in wanted):
            return found
        assert time.monotonic() < deadline, {i: found[i]["state"] for i in wanted}
        await asyncio.sleep(0.2)


def _nothing_of_unit_b_anywhere(d: Drill) -> None:
    """While held: no request about a unit B content reached a platform, no page of it is on the site."""
    pages = [o.object_name or "" for o in d.media.client.list_objects(d.media.website_bucket, recursive=True)]
    for p in d.of(UNIT_B):
        seen = [(r.platform, r.kind, r.at) for r in records() if _mentions(r, p.marker)]
        assert seen == [], f"{p.title!r} reached a platform during the hold: {seen}"
        assert not [k for k in pages if slugify(p.title) in k], (
            f"{p.title!r} is on the website during the hold"
        )


async def _close(d: Drill, iid: int) -> tuple[str, list[dict[str, str]]]:
    await d.act(f"/api/v1/incidents/{iid}/close", OPERATOR, {"note": "Đã xử lý xong sự cố"}, 200)
    reports = []
    for fmt in ("md", "csv"):
        r = await d.tracker.get(
            f"/api/v1/incidents/{iid}/report", params={"format": fmt}, headers=tracker_auth(VIEWER)
        )
        assert r.status_code == 200, r.text
        reports.append(r.text)
    rows = [
        row for row in csv.DictReader(io.StringIO(reports[1].lstrip("\ufeff"))) if row["record"] == "step"
    ]
    return reports[0], rows


async def test_the_incident_drill_in_vietnamese_on_the_real_stack(
    settings: LoaSettings,
    tmp_path: Path,
    sandbox: SandboxClient,
    sandbox_url: str,
    tls_sandbox: TlsSandbox,
    media: MediaStore,
    pg_url: str,
    start_run: StartRun,
) -> None:
    began = time.monotonic()
    await create_topics(settings)
    await asyncio.gather(*(start_run(r) for r in channel_runs(settings, tmp_path, sandbox_url, tls_sandbox)))
    files = drill_media(media)
    with running_ingest(settings, tmp_path) as doors:
        async with (
            running_tracker(drill_tracker(settings, pg_url)) as (_, tracker),
            httpx.AsyncClient(base_url=doors.url, timeout=30) as ingest,
        ):
            t0 = utcnow()
            due_b = [t0 + timedelta(seconds=DUE_B_LATE)] * 5 + [t0 + timedelta(seconds=DUE_B_ON_TIME)] * 5
            contents = plan(uuid.uuid4().hex[:6], t0 + timedelta(seconds=DUE_A), due_b)
            print(f"stage up: {time.monotonic() - began:.1f} s")
            d = Drill(ingest, doors, tracker, media, contents)
            await _schedule_twenty(d, files)
            iid = await _open_incident(d)
            hold_id = await _hold_unit_b(d)
            assert d.times["held_everywhere"] < due_b[0], "the hold took effect before unit B's first time"
            a = d.of(UNIT_A)
            await d.in_state(d.dids(a), S.PUBLISHED, "unit A published at its time")
            correction = await _correct(d, a[0], files)
            await _retract(d, a[1])
            await _release(d, hold_id, due_b[0])
            final = await _send_late_ones_now(d)
            markdown, steps = await _close(d, iid)

    _assert_links(d, a[0], correction, final)
    _assert_unit_b_after_the_release(d, a[1], correction, final)
    _assert_each_post_once_at_its_time(d, a[1], correction, final)
    _assert_final_states(d, a[1], correction, final)
    _assert_report(d, markdown, steps, a[0], a[1], correction)
    print(f"incident drill: {time.monotonic() - began:.1f} s")


def _one(found: list[Record], what: str) -> Record:
    assert len(found) == 1, f"{what}: {[(r.kind, r.data) for r in found]}"
    return found[0]


def _assert_links(d: Drill, original: Planned, correction: Planned, final: dict[str, dict[str, Any]]) -> None:
    """On each channel the correction names what it corrects, the way the platform allows."""
    first = {c: final[did(original.id, c)] for c in CHANNELS}
    own = {c: final[did(correction.id, c)] for c in CHANNELS}
    # A video's external id is the Video's; comments and pins go to its Page post (Graph's post_id).
    post_of = {r.data["id"]: r.data["post_id"] for r in records("facebook", "video")}
    fb = post_of.get(first["facebook"]["external_id"], first["facebook"]["external_id"])
    comments = [r for r in records("facebook", "comment") if r.data["post_id"] == fb]
    assert "bão số 13 làm sập 2 nhà" in _one(comments, "Facebook comment").data["message"]
    pin = _one(records("facebook", "pin"), "Facebook pin")
    pinned = post_of.get(own["facebook"]["external_id"], own["facebook"]["external_id"])
    assert (pin.data["id"], pin.data["is_pinned"]) == (pinned, True)
    reply = _one(
        [
            r
            for r in records("x", "tweet")
            if r.data["in_reply_to_tweet_id"] == first["x"]["external_id"] and "Đính chính" in r.data["text"]
        ],
        "X reply to the original",
    )
    assert "bão số 13 làm sập 2 nhà" in reply.data["text"]
    video = first["youtube"]["external_id"]
    assert [r for r in records("youtube", "update") if r.data["id"] == video and "snippet" in r.data["parts"]]
    assert youtube_state().videos[video].snippet["description"].startswith("Đính chính (")
    update = _one(
        [r for r in records("zalo", "article_update") if r.data["id"] == own["zalo"]["external_id"]],
        "Zalo article update",
    )
    assert update.data["body"][0]["content"] == f"Đính chính cho bài: {first['zalo']['public_url']}"
    _one(
        [r for r in records("zalo", "broadcast") if r.data["article_id"] == own["zalo"]["external_id"]],
        "broadcast",
    )
    page = _website_page(d, first["website"]["public_url"])
    assert "correction-notice" in page and urlsplit(own["website"]["public_url"]).path in page


def _website_page(d: Drill, public_url: str) -> str:
    key = page_key(urlsplit(public_url).path)
    answer = d.media.client.get_object(d.media.website_bucket, key)
    try:
        return bytes(answer.read()).decode()
    finally:
        answer.close()
        answer.release_conn()


def _verdict(
    d: Drill, retracted: Planned, correction: Planned, final: dict[str, dict[str, Any]]
) -> tuple[Verdict, list[Post]]:
    """The drills' own count (``bench/drills/verdict.py``) over the platforms' records: every post
    traced to its content by the id the tracker holds (the link steps, ``<account>~đính-chính``, are
    not posts of their own)."""
    fed = [
        Fed(p.id, "incident", tuple(c for c in p.channels if c in SOCIAL), p.publish_at, p is retracted)
        for p in d.contents
    ] + [Fed(correction.id, "incident", SOCIAL)]
    deliveries = [delivery_of(x) for x in final.values() if "~" not in x["account"]]
    found = sandbox_records()
    return judge(fed, deliveries, found), posts(found, deliveries)


def sandbox_records() -> list[dict[str, Any]]:
    return [asdict(r) for r in records()]


def _assert_each_post_once_at_its_time(
    d: Drill, retracted: Planned, correction: Planned, final: dict[str, dict[str, Any]]
) -> None:
    verdict, _ = _verdict(d, retracted, correction, final)
    assert not any(counts(verdict).values()), verdict  # no duplicate, loss, early post, nothing left live
    assert (
        verdict.published
        == sum(len(f) for f in ([c for c in p.channels if c in SOCIAL] for p in d.contents)) + 4
    )


def _assert_unit_b_after_the_release(
    d: Drill, retracted: Planned, correction: Planned, final: dict[str, dict[str, Any]]
) -> None:
    """Nothing of unit B before the release; what was late was sent now, the rest at its time."""
    released = d.times["released"]
    _, found = _verdict(d, retracted, correction, final)
    b = {p.id for p in d.of(UNIT_B)}
    early = [(p.channel, p.content_id, p.at) for p in found if p.content_id in b and p.at < released]
    assert early == [], f"unit B on a platform before the release at {released}"
    assert len([p for p in found if p.content_id in b]) == sum(len(p.channels) - 1 for p in d.of(UNIT_B))
    late_ones = d.dids(p for p in d.of(UNIT_B) if p.publish_at < released)
    assert set(late_ones) <= d.late_sent, "each delivery whose time passed during the hold waited for ops"
    for p in d.of(UNIT_B):
        url = final[did(p.id, "website")]["public_url"]
        stat = d.media.client.stat_object(d.media.website_bucket, page_key(urlsplit(url).path))
        assert stat.last_modified is not None and stat.last_modified >= released - timedelta(seconds=1)


def _assert_final_states(
    d: Drill, retracted: Planned, correction: Planned, final: dict[str, dict[str, Any]]
) -> None:
    expected = dict.fromkeys(d.dids(d.contents), S.PUBLISHED.value)
    expected |= dict.fromkeys(d.dids([retracted]), S.RETRACTED.value)
    expected |= {did(correction.id, c): S.PUBLISHED.value for c in CHANNELS}
    expected |= {did(correction.id, c, link_account(ACCOUNTS[c])): S.PUBLISHED.value for c in SOCIAL}
    assert {i: x["state"] for i, x in final.items()} == expected


def _kind(row: dict[str, str]) -> str:
    """The step's kind (``hold.placed``) or ``delivery.<state>``, from the report's Vietnamese label."""
    if row["state"]:
        return f"delivery.{row['state']}"
    label = row["event"].split(" · ")[0]
    return next((kind for kind, (vi, _) in EVENTS.items() if vi == label), label)


def _assert_report(
    d: Drill,
    markdown: str,
    steps: list[dict[str, str]],
    original: Planned,
    retracted: Planned,
    correction: Planned,
) -> None:
    """Every step of the drill in the report, each with its time, in the order it happened."""
    at = [datetime.fromisoformat(s["at"]) for s in steps]
    assert at == sorted(at), "the report lists the steps in time order"

    def when(kind: str, content: str | None = None, *, last: bool = False) -> datetime:
        found = [
            t
            for t, s in zip(at, steps, strict=True)
            if _kind(s) == kind and content in (None, s["content_id"])
        ]
        assert found, f"no {kind} {content or ''} in the report"
        return found[-1] if last else found[0]

    b = [p.id for p in d.of(UNIT_B)]
    held = {(s["content_id"], s["channel"]) for s in steps if _kind(s) == "delivery.held"}
    assert held == {(p.id, c) for p in d.of(UNIT_B) for c in p.channels}
    published_b = max(when("delivery.published", i, last=True) for i in b)
    order = [
        when("incident.opened"),
        when("hold.placed"),
        max(when("delivery.held", i) for i in b),
        when("content.approved", correction.id),
        when("delivery.published", correction.id, last=True),
        when("content.retracted", retracted.id),
        when("delivery.retracted", retracted.id, last=True),
        when("hold.released"),
        published_b,
        when("incident.closed"),
    ]
    assert order == sorted(order), f"the drill's steps out of order in the report: {order}"
    linked = {
        (s["channel"], s["account"])
        for s in steps
        if s["content_id"] == correction.id and _kind(s) == "delivery.published"
    }
    links = {(c, link_account(ACCOUNTS[c])) for c in SOCIAL}
    assert linked == {(c, ACCOUNTS[c]) for c in CHANNELS} | links
    for label in (
        INCIDENT_TITLE,
        "Tạm dừng phát hành",
        CORRECTION_TITLE,
        "Yêu cầu gỡ khỏi mọi kênh",
        "Tiếp tục phát hành",
        "Đóng sự cố",
    ):
        assert label in markdown, label
    assert markdown.index("Tạm dừng phát hành") < markdown.index("Tiếp tục phát hành")
    assert original.id not in {s["content_id"] for s in steps if _kind(s) == "delivery.retracted"}
