"""What a Page post did after publishing: its insights and its reactions, comments and shares.

Two Graph calls per read of the figures and one per read of the comments, each on the listener's
schedule for it, all documented for a Page post:
- ``GET /{post-id}/insights?metric=post_impressions,post_impressions_unique`` (Page Post insights,
  https://developers.facebook.com/docs/graph-api/reference/insights#page-posts: ``data[]`` of
  ``{name, period: lifetime, values: [{value}]}``);
- ``GET /{post-id}?fields=`` ``COUNTS`` below
  (Page Post reference, https://developers.facebook.com/docs/graph-api/reference/post/: edges
  ``reactions`` and ``comments`` with ``summary.total_count``; field ``shares.count``, absent
  while nobody shared).
- ``GET /{post-id}/comments?order=reverse_chronological&limit=100&fields=id,message,created_time,from``
  (Comments edge, https://developers.facebook.com/docs/graph-api/reference/object/comments/: the
  newest hundred, one page; older ones were read by earlier polls).
Errors map as the publisher's do (``graph.map_error``: codes 4/17/32/613 are rate limits with the
reset the usage headers give). At ``SLOW_DOWN_AT`` % of any limit in ``X-App-Usage`` or
``X-Business-Use-Case-Usage`` the account pauses for ``APP_USAGE_COOL_DOWN``: Meta's page says to
"spread out queries" before throttling starts rather than after.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from loa.channels import Account
from loa.channels.engagement import Observation
from loa.events.engagement import Metric, PostComment
from services.facebook.adapter import FacebookAdapter, page_post_id
from services.facebook.graph import APP_USAGE_COOL_DOWN, GraphClient, retry_at_from, usage_of
from services.facebook.settings import FacebookSettings

INSIGHTS = {"post_impressions": Metric.IMPRESSIONS, "post_impressions_unique": Metric.REACH}
COUNTS = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
COMMENTS = {"order": "reverse_chronological", "limit": "100", "fields": "id,message,created_time,from"}
SLOW_DOWN_AT = 75.0
"""Percent of a Graph limit above which the listener stops calling for a while (publishing first)."""


class FacebookEngagement:
    channel: ClassVar[str] = "facebook"
    lists_comments: ClassVar[bool] = True

    def __init__(self, settings: FacebookSettings | None = None) -> None:
        self.settings = settings or FacebookSettings()
        self.graph = GraphClient(
            self.settings.facebook_graph_url,
            self.settings.facebook_graph_version,
            self.settings.facebook_timeout_s,
        )
        self._posts: dict[str, str] = {}
        """Published object id → its Page post (one lookup per video post and process)."""

    async def _page_post(self, token: str, external_id: str) -> str:
        """A video post's id is the Video's: its figures and comments are its Page post's."""
        if external_id not in self._posts:
            self._posts[external_id] = await page_post_id(self.graph, token, external_id)
        return self._posts[external_id]

    async def read(self, account: Account, external_id: str) -> Observation:
        token = FacebookAdapter.token(account)
        external_id = await self._page_post(token, external_id)
        insights, first = await self.graph.read(
            token, f"{external_id}/insights", {"metric": ",".join(INSIGHTS)}
        )
        counts, second = await self.graph.read(token, external_id, {"fields": COUNTS})
        metrics = {**insight_values(insights), **count_values(counts)}
        return Observation(metrics, slow_down_until=slow_down(first, second), raw={"insights": insights})

    async def read_comments(self, account: Account, external_id: str) -> Observation:
        token = FacebookAdapter.token(account)
        external_id = await self._page_post(token, external_id)
        listed, headers = await self.graph.read(token, f"{external_id}/comments", COMMENTS)
        return Observation({}, slow_down_until=slow_down(headers), comments=comments_of(listed))

    def close(self) -> None:
        self.graph.close()


def insight_values(answer: dict[str, Any]) -> dict[Metric, int]:
    """The lifetime value of each metric asked for, from ``data[].values[-1].value``."""
    out: dict[Metric, int] = {}
    for item in answer.get("data") or []:
        metric = INSIGHTS.get(str(item.get("name")))
        values = item.get("values") or []
        if metric is not None and values and isinstance(values[-1].get("value"), int):
            out[metric] = values[-1]["value"]
    return out


def count_values(answer: dict[str, Any]) -> dict[Metric, int]:
    """``reactions``/``comments`` ``summary.total_count`` and ``shares.count`` (0 when absent: Graph
    omits ``shares`` until the first share)."""
    out: dict[Metric, int] = {}
    for edge, metric in (("reactions", Metric.REACTIONS), ("comments", Metric.COMMENTS)):
        total = ((answer.get(edge) or {}).get("summary") or {}).get("total_count")
        if isinstance(total, int):
            out[metric] = total
    shares = answer.get("shares")
    out[Metric.SHARES] = int(shares.get("count", 0)) if isinstance(shares, dict) else 0
    return out


def comments_of(answer: dict[str, Any]) -> list[PostComment]:
    """``data[]`` of ``{id, message, created_time, from.name}``; a comment without text (a sticker,
    a photo) is kept with an empty text."""
    return [
        PostComment(
            external_id=str(item["id"]),
            author=str((item.get("from") or {}).get("name", ""))[:300],
            text=str(item.get("message", ""))[:10_000],
            created_at=datetime.strptime(item["created_time"], "%Y-%m-%dT%H:%M:%S%z"),
        )
        for item in answer.get("data") or []
        if item.get("id") and item.get("created_time")
    ]


def slow_down(*answers: dict[str, str]) -> datetime | None:
    """When to call again, from the usage headers of the answers: the reset they name, or a cool-down
    once usage passes ``SLOW_DOWN_AT``; None while there is room."""
    now = datetime.now(UTC)
    until = [t for headers in answers if (t := retry_at_from(headers, now)) is not None]
    if any(usage_of(headers) >= SLOW_DOWN_AT for headers in answers):
        until.append(now + APP_USAGE_COOL_DOWN)
    return max(until, default=None)
