"""bench/drills/verdict.py: how the drills count duplicates, losses, early posts and retractions,
over records shaped as the sandbox's ``/_sandbox/records`` gives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.drills.verdict import Fed, judge
from bench.e2e.observe import Delivery

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
TITLE = "Thông báo số {n}: Đà Nẵng khai trương Trung tâm phục vụ hành chính công"


def record(platform: str, kind: str, seconds: float, **data: Any) -> dict[str, Any]:
    return {
        "platform": platform,
        "kind": kind,
        "at": (T0 + timedelta(seconds=seconds)).isoformat(),
        "data": data,
    }


def delivery(
    content: str, channel: str, state: str = "published", external_id: str | None = None
) -> Delivery:
    return Delivery(content, channel, state, T0, T0, external_id, None)


def test_a_clean_run_counts_nothing() -> None:
    fed = [Fed("bench-0000001", "kill_publishers", ("x", "zalo"))]
    records = [
        record("x", "tweet", 1, id="9", text=TITLE.format(n=1)),
        record("x", "tweet", 1, id="10", text="phần 2", in_reply_to_tweet_id="9"),  # a thread's reply
        record("zalo", "article", 2, id="a1", title=TITLE.format(n=1)),
    ]
    deliveries = [
        delivery("bench-0000001", "x", external_id="9"),
        delivery("bench-0000001", "zalo", external_id="a1"),
    ]
    verdict = judge(fed, deliveries, records)
    assert verdict.clean
    assert (verdict.contents, verdict.deliveries, verdict.published) == (1, 2, 2)


def test_the_tracker_must_show_each_post_published_with_the_id_the_platform_gave_it() -> None:
    fed = [Fed("bench-0000009", "chaos", ("x", "zalo", "webhook", "youtube"))]
    records = [
        record("x", "tweet", 1, id="21", text=TITLE.format(n=9)),
        record("zalo", "article", 1, id="a9", title=TITLE.format(n=9)),
        record("webhook", "delivery", 1, delivery_id="wh9", payload={"title": TITLE.format(n=9)}),
        record("youtube", "video", 1, id="yt9", title=TITLE.format(n=9)),
    ]
    deliveries = [
        delivery("bench-0000009", "x", external_id="21"),
        delivery("bench-0000009", "zalo", external_id="a8"),  # another post's id
        delivery("bench-0000009", "webhook", "failed", external_id=None),  # it went out all the same
        # the tracker never heard of the YouTube delivery
    ]
    verdict = judge(fed, deliveries, records)
    assert verdict.mismatched == [
        "chaos bench-0000009 zalo: on the platform as a9, the tracker shows published a8",
        "chaos bench-0000009 webhook: on the platform as wh9, the tracker shows failed None",
        "chaos bench-0000009 youtube: on the platform as yt9, the tracker shows nothing",
    ]
    assert not verdict.clean and not verdict.losses and not verdict.duplicates


def test_two_posts_of_one_delivery_and_a_post_no_content_owns_are_duplicates() -> None:
    fed = [Fed("bench-0000002", "broker_outage", ("x", "facebook"))]
    records = [
        record("x", "tweet", 1, id="11", text=TITLE.format(n=2)),
        record("x", "tweet", 5, id="12", text=TITLE.format(n=2)),
        record("facebook", "video", 3, id="v1", post_id="p1", page_id="1"),  # traced by the tracker's id
        record("facebook", "video", 4, id="v2", post_id="p2", page_id="1"),  # traced to nothing
    ]
    deliveries = [
        delivery("bench-0000002", "x", external_id="11"),
        delivery("bench-0000002", "facebook", external_id="v1"),
    ]
    verdict = judge(fed, deliveries, records)
    assert verdict.duplicates == ["broker_outage bench-0000002 x: 2 posts", "unclaimed post facebook v2"]
    assert not verdict.losses


def test_a_delivery_never_posted_is_a_loss_and_one_still_publishing_is_not_final() -> None:
    fed = [Fed("bench-0000003", "database_outage", ("zalo", "webhook"))]
    deliveries = [
        delivery("bench-0000003", "zalo", "failed"),
        delivery("bench-0000003", "webhook", "publishing"),
    ]
    verdict = judge(fed, deliveries, [])
    assert len(verdict.losses) == 2
    assert verdict.not_final == ["database_outage bench-0000003 webhook: publishing"]
    assert verdict.failed and not verdict.clean


def test_a_post_live_before_its_publish_at_is_early() -> None:
    fed = [Fed("bench-0000004", "restart_with_posts_due", ("x",), publish_at=T0 + timedelta(seconds=10))]
    records = [record("x", "tweet", 9.5, id="13", text=TITLE.format(n=4))]
    verdict = judge(fed, [delivery("bench-0000004", "x")], records)
    assert len(verdict.early) == 1 and "due 2026-12-03T07:00:10" in verdict.early[0]


def test_a_retracted_content_must_be_deleted_where_it_went_out_and_is_no_loss_where_it_did_not() -> None:
    fed = [Fed("bench-0000005", "retract_during_upload", ("youtube", "webhook", "x"), retracted=True)]
    records = [
        record("youtube", "video", 2, id="yt1", title=TITLE.format(n=5)),
        record("webhook", "delivery", 1, delivery_id="wh000001", payload={"title": TITLE.format(n=5)}),
        record("webhook", "retract", 3, delivery_id="wh000001"),
    ]
    states = [delivery("bench-0000005", c, "retracted") for c in ("youtube", "webhook", "x")]
    verdict = judge(fed, states, records)
    assert verdict.still_live == [
        "retract_during_upload bench-0000005 youtube: yt1 still up after the retraction (tracker: retracted)"
    ]
    assert not verdict.losses


def test_a_retracted_video_made_private_is_gone_and_one_public_or_still_scheduled_is_still_live() -> None:
    """YouTube's retraction makes the video private by default (``youtube_retract_mode=private``):
    no reader sees it, with no delete record. The ``video`` record's data is the card as it is now."""
    fed = [Fed(f"bench-000000{n}", "retract_during_upload", ("youtube",), retracted=True) for n in (6, 7, 8)]
    records = [
        record("youtube", "video", 2, id="yt6", title=TITLE.format(n=6), privacy="private", publish_at=None),
        record("youtube", "privacy", 2, id="yt6", privacy="private"),
        record("youtube", "update", 4, id="yt6", parts=["snippet", "status"]),
        record("youtube", "video", 2, id="yt7", title=TITLE.format(n=7), privacy="public", publish_at=None),
        record(
            "youtube",
            "video",
            2,
            id="yt8",
            title=TITLE.format(n=8),
            privacy="private",
            publish_at="2026-12-03T07:05:00Z",  # goes public on its own later
        ),
    ]
    states = [delivery(f.content_id, "youtube", "retracted") for f in fed]
    verdict = judge(fed, states, records)
    assert verdict.still_live == [
        "retract_during_upload bench-0000007 youtube: yt7 still up after the retraction (tracker: retracted)",
        "retract_during_upload bench-0000008 youtube: yt8 still up after the retraction (tracker: retracted)",
    ]
