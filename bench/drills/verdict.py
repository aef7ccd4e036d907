"""What the drills count, from what the platforms received (the sandbox's records) and what the
tracker says: one owner for "duplicate", "loss", "early", "still live after a retraction".

A *post* is a record of the kinds below: what a reader of that platform sees as one item (an X
thread's replies and Facebook's unpublished photos are parts of a post, not posts). Each post is
traced to its content by the title's number (``Thông báo số N:``), else by the id the tracker holds
for a delivery; a post traced to nothing is *unclaimed* and counts as a duplicate (no content owns it).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.e2e.observe import Delivery
from loa.events import FINAL_STATES

POST_KINDS: dict[str, tuple[str, ...]] = {
    "webhook": ("delivery",),
    "facebook": ("post", "video"),  # a content with a video goes as a video post (its own record)
    "zalo": ("article",),
    "youtube": ("video",),
    "x": ("tweet",),
}
GONE_KINDS: dict[str, tuple[str, ...]] = {
    "webhook": ("retract",),
    "facebook": ("delete",),
    "zalo": ("article_remove",),
    "youtube": ("delete",),
    "x": ("delete",),
}
MARKER = re.compile(r"Thông báo số (\d+):")
"""The number in every drill content's title (``bench/e2e/load.py`` TITLE)."""
FINAL = {str(s) for s in FINAL_STATES}


def content_id(number: int) -> str:
    """The id ``bench/e2e/load.content`` gives content number ``number``."""
    return f"bench-{number:07d}"


@dataclass(frozen=True)
class Fed:
    """One content a drill sent, and what it expects."""

    content_id: str
    drill: str
    channels: tuple[str, ...]
    publish_at: datetime | None = None
    retracted: bool = False


@dataclass(frozen=True)
class Post:
    channel: str
    ids: tuple[str, ...]
    """Every id the platform gave it (a Facebook video post: the video's and the post's)."""
    at: datetime
    content_id: str | None


@dataclass
class Verdict:
    contents: int = 0
    deliveries: int = 0
    published: int = 0
    not_final: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unclaimed: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    early: list[str] = field(default_factory=list)
    still_live: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    """Deliveries of a content not retracted whose one post the tracker does not show as
    ``published`` with that post's id."""

    @property
    def clean(self) -> bool:
        return not (
            self.duplicates
            or self.losses
            or self.early
            or self.not_final
            or self.still_live
            or self.mismatched
        )


def _ids(channel: str, data: dict[str, Any]) -> tuple[str, ...]:
    if channel == "webhook":
        return (str(data.get("delivery_id")),)
    return tuple(str(data[k]) for k in ("id", "post_id") if data.get(k))


def posts(records: list[dict[str, Any]], deliveries: list[Delivery]) -> list[Post]:
    """The posts among the sandbox's ``records``, each traced to its content when possible."""
    by_external = {d.external_id: d.content_id for d in deliveries if d.external_id}
    out = []
    for r in records:
        channel, data = r["platform"], r["data"]
        if r["kind"] not in POST_KINDS.get(channel, ()) or data.get("in_reply_to_tweet_id"):
            continue
        ids = _ids(channel, data)
        marker = MARKER.search(json.dumps(data, ensure_ascii=False))
        owner = (
            content_id(int(marker[1]))
            if marker
            else next((by_external[i] for i in ids if i in by_external), None)
        )
        out.append(Post(channel, ids, datetime.fromisoformat(r["at"]), owner))
    return out


def gone(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(channel, id) of every post the platforms deleted or show to no reader at the end."""
    deleted = {
        (r["platform"], str(r["data"].get("delivery_id") or r["data"].get("id")))
        for r in records
        if r["kind"] in GONE_KINDS.get(r["platform"], ())
    }
    return deleted | hidden_videos(records)


def hidden_videos(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """YouTube videos private at the end with no ``publishAt`` that would make them public later:
    what YouTube's retraction does by default (``youtube_retract_mode=private``), and what a video
    stopped during its upload stays. The ``video`` record's data is the video's card as the reader
    page shows it now (the emulator keeps it current)."""
    return {
        ("youtube", str(r["data"]["id"]))
        for r in records
        if (r["platform"], r["kind"]) == ("youtube", "video")
        and r["data"].get("privacy") == "private"
        and not r["data"].get("publish_at")
    }


def judge(fed: list[Fed], deliveries: list[Delivery], records: list[dict[str, Any]]) -> Verdict:
    """Count every fault the drills are there to find, over the whole run."""
    v = Verdict(contents=len(fed), deliveries=sum(len(f.channels) for f in fed))
    state = {(d.content_id, d.channel): d for d in deliveries}
    found = posts(records, deliveries)
    deleted = gone(records)
    per_delivery: dict[tuple[str, str], list[Post]] = {}
    for post in found:
        if post.content_id is None:
            v.unclaimed.append(f"{post.channel} {post.ids[0]}")
        else:
            per_delivery.setdefault((post.content_id, post.channel), []).append(post)
    for f in fed:
        for channel in f.channels:
            key = f"{f.drill} {f.content_id} {channel}"
            d = state.get((f.content_id, channel))
            if d is None or d.state not in FINAL:
                v.not_final.append(f"{key}: {d.state if d else 'unknown to the tracker'}")
            elif d.state == "failed":
                v.failed.append(f"{key}: {d.error}")
            mine = per_delivery.get((f.content_id, channel), [])
            v.published += bool(mine)
            v.duplicates += [f"{key}: {len(mine)} posts"] if len(mine) > 1 else []
            if not mine and not f.retracted:
                v.losses.append(f"{key}: never on the platform (tracker: {d.state if d else 'nothing'})")
            if len(mine) == 1 and not f.retracted:
                v.mismatched += _mismatch(key, d, mine[0])
            if f.publish_at is not None:
                v.early += [
                    f"{key}: live at {p.at.isoformat()}, due {f.publish_at.isoformat()}"
                    for p in mine
                    if p.at < f.publish_at
                ]
            if f.retracted:
                live = [p for p in mine if not any((channel, i) in deleted for i in p.ids)]
                tracker = d.state if d else "nothing"
                v.still_live += [
                    f"{key}: {p.ids[0]} still up after the retraction (tracker: {tracker})" for p in live
                ]
    v.duplicates += [f"unclaimed post {u}" for u in v.unclaimed]
    return v


def _mismatch(key: str, d: Delivery | None, post: Post) -> list[str]:
    """The tracker's view of a delivery against its one post: published, with one of its ids."""
    if d is not None and d.state == "published" and d.external_id in post.ids:
        return []
    seen = f"{d.state} {d.external_id}" if d else "nothing"
    return [f"{key}: on the platform as {post.ids[0]}, the tracker shows {seen}"]


def rows(v: Verdict) -> list[tuple[str, int, str]]:
    """The verdict's figures, as the harnesses print them (``name: value unit``)."""
    return [
        ("contents", v.contents, ""),
        ("deliveries", v.deliveries, ""),
        ("deliveries_on_the_platform", v.published, ""),
        ("duplicates", len(v.duplicates), ""),
        ("losses", len(v.losses), ""),
        ("early_posts", len(v.early), ""),
        ("not_final", len(v.not_final), ""),
        ("still_live_after_retraction", len(v.still_live), ""),
        ("tracker_mismatched", len(v.mismatched), ""),
        ("failed", len(v.failed), ""),
    ]


def examples(v: Verdict, n: int) -> list[str]:
    """The first ``n`` faults of each kind, one line each."""
    kinds = ("duplicates", "losses", "early", "not_final", "still_live", "mismatched", "failed")
    return [f"{kind}: {line}" for kind in kinds for line in getattr(v, kind)[:n]]


def counts(v: Verdict) -> Counter[str]:
    return Counter(
        duplicates=len(v.duplicates),
        losses=len(v.losses),
        early=len(v.early),
        not_final=len(v.not_final),
        still_live=len(v.still_live),
        mismatched=len(v.mismatched),
        failed=len(v.failed),
    )
