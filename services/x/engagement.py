"""What a post did after publishing: ``public_metrics`` and ``non_public_metrics`` of ``GET /2/tweets/:id``.

Fields (docs.x.com/x-api/fundamentals/metrics): ``public_metrics`` has ``retweet_count``,
``reply_count``, ``like_count``, ``quote_count``, ``bookmark_count`` and ``impression_count``;
``non_public_metrics.impression_count`` needs the author's user context and posts of the last 30
days (without it X answers the public figures only). Through tweepy's ``Client.get_tweet`` on the
channel's ``XClient``: its ``x-rate-limit-remaining``/``-reset`` bookkeeping refuses a call once the
window is spent and a 429 carries the reset (``errors.to_error``). A post X no longer has (the
answer's ``errors`` of type resource-not-found, no ``data``) is gone. The replies, read on their own
schedule: recent search for ``conversation_id:<post id>`` (``XClient.replies``), its own rate-limit
window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from loa.channels import Account, PermanentError
from loa.channels.engagement import Observation
from loa.channels.threads import in_thread
from loa.events.engagement import Metric, PostComment
from services.x.client import XClient
from services.x.settings import XSettings

PUBLIC = {
    "like_count": Metric.REACTIONS,
    "reply_count": Metric.COMMENTS,
    "retweet_count": Metric.SHARES,
    "quote_count": Metric.QUOTES,
    "bookmark_count": Metric.BOOKMARKS,
    "impression_count": Metric.IMPRESSIONS,
}


class XEngagement:
    channel: ClassVar[str] = "x"
    lists_comments: ClassVar[bool] = True

    def __init__(self, settings: XSettings | None = None) -> None:
        self.settings = settings or XSettings()
        self._clients: dict[str, XClient] = {}
        """One per account: each keeps its account's rate-limit windows."""

    def _client(self, account: Account) -> XClient:
        client = self._clients.get(account.name)
        if client is None:
            client = self._clients[account.name] = XClient(
                account, self.settings.x_api_url, self.settings.x_timeout_s
            )
        return client

    async def read(self, account: Account, external_id: str) -> Observation:
        data = await in_thread(self._client(account).public_metrics, external_id)
        if not data:
            raise PermanentError(f"X post {external_id} is no longer there", code="resource-not-found")
        return Observation(metrics_of(data))

    async def read_comments(self, account: Account, external_id: str) -> Observation:
        replies = await in_thread(self._client(account).replies, external_id)
        return Observation({}, comments=replies_of(replies))

    def close(self) -> None:
        for client in self._clients.values():
            client.client.session.close()


def replies_of(data: list[dict[str, Any]]) -> list[PostComment]:
    """Each reply's id, text and time; X gives the author's id (``author_id``), kept as the author."""
    return [
        PostComment(
            external_id=str(post["id"]),
            author=str(post.get("author_id", ""))[:300],
            text=str(post.get("text", ""))[:10_000],
            created_at=datetime.fromisoformat(str(post["created_at"]).replace("Z", "+00:00")),
        )
        for post in data
        if post.get("id") and post.get("created_at")
    ]


def metrics_of(post: dict[str, Any]) -> dict[Metric, int]:
    """The public figures, and the author's own impression count where X gave it."""
    public = post.get("public_metrics") or {}
    out = {
        metric: int(public[field]) for field, metric in PUBLIC.items() if isinstance(public.get(field), int)
    }
    private = post.get("non_public_metrics") or {}
    if isinstance(private.get("impression_count"), int):
        out[Metric.IMPRESSIONS] = int(private["impression_count"])
    return out
