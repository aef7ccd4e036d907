"""What a video did after publishing: ``videos.list(part=statistics)``, one quota unit a call.

Fields (https://developers.google.com/youtube/v3/docs/videos#statistics): ``viewCount``,
``likeCount``, ``commentCount`` as strings of digits; ``likeCount`` is absent when the owner hides
it, ``commentCount`` when comments are off (absent here too, never 0); ``favoriteCount`` is
deprecated (always 0) and ``dislikeCount`` private since 2021, so neither is kept. Cost: 1 unit
(https://developers.google.com/youtube/v3/determine_quota_cost, ``videos.list``), counted by the
channel's ``QuotaTracker`` against the listener's own share of the project's day
(``LOA_LISTENER_YOUTUBE_DAILY_UNITS``): past it, or after ``quotaExceeded`` (403), reads wait for the
reset at midnight Pacific Time. A video no longer there (deleted, or private to others) is gone.

The comments, read on their own schedule: ``commentThreads.list(part=snippet, videoId=…, order=time,
maxResults=100)``, one unit a read, counted by the same tracker
(https://developers.google.com/youtube/v3/docs/commentThreads/list): the newest hundred top-level
comments, ``snippet.topLevelComment.snippet`` ``textOriginal``, ``authorDisplayName``,
``publishedAt``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from loa.channels import Account, PermanentError
from loa.channels.engagement import Observation
from loa.channels.threads import in_thread
from loa.events.engagement import Metric, PostComment
from services.youtube.adapter import YouTubeAdapter
from services.youtube.api import HttpPool, build_service, credentials_for, map_error
from services.youtube.quota import QuotaTracker
from services.youtube.settings import YouTubeSettings

STATISTICS = {"viewCount": Metric.VIEWS, "likeCount": Metric.REACTIONS, "commentCount": Metric.COMMENTS}
METHOD = "videos.list"
COMMENTS = "commentThreads.list"


class YouTubeEngagement:
    channel: ClassVar[str] = "youtube"
    lists_comments: ClassVar[bool] = True

    def __init__(self, settings: YouTubeSettings | None = None, daily_units: int | None = None) -> None:
        self.settings = settings or YouTubeSettings()
        units = daily_units if daily_units is not None else self.settings.youtube_daily_quota
        self.quota = QuotaTracker(units, daily_uploads=0)
        self.service = build_service(self.settings)
        self._http = HttpPool(self.settings)

    async def read(self, account: Account, external_id: str) -> Observation:
        project = YouTubeAdapter._project(account)
        self.quota.charge(project, METHOD)
        creds = credentials_for(account, self.settings)

        def call() -> Any:
            with self._http.authorized(creds) as http:
                return self.service.videos().list(part="statistics", id=external_id).execute(http=http)

        try:
            answer = await in_thread(call)
        except Exception as e:
            raise map_error(e, METHOD, self.quota, project) from e
        items = answer.get("items") or []
        if not items:
            raise PermanentError(f"YouTube video {external_id} is no longer there", code="videoNotFound")
        return Observation(statistics_of(items[0].get("statistics") or {}))

    async def read_comments(self, account: Account, external_id: str) -> Observation:
        project = YouTubeAdapter._project(account)
        self.quota.charge(project, COMMENTS)
        creds = credentials_for(account, self.settings)

        def threads() -> Any:
            with self._http.authorized(creds) as http:
                return (
                    self.service.commentThreads()
                    .list(part="snippet", videoId=external_id, order="time", maxResults=100)
                    .execute(http=http)
                )

        try:
            listed = await in_thread(threads)
        except Exception as e:
            raise map_error(e, COMMENTS, self.quota, project) from e
        return Observation({}, comments=threads_of(listed))

    def close(self) -> None:
        """Nothing held open beyond the pooled transports, which close with the process."""


def threads_of(answer: dict[str, Any]) -> list[PostComment]:
    """Each thread's top-level comment (replies to it are not read)."""
    out = []
    for item in answer.get("items") or []:
        top = (item.get("snippet") or {}).get("topLevelComment") or {}
        snippet = top.get("snippet") or {}
        if top.get("id") and snippet.get("publishedAt"):
            out.append(
                PostComment(
                    external_id=str(top["id"]),
                    author=str(snippet.get("authorDisplayName", ""))[:300],
                    text=str(snippet.get("textOriginal", snippet.get("textDisplay", "")))[:10_000],
                    created_at=datetime.fromisoformat(snippet["publishedAt"].replace("Z", "+00:00")),
                )
            )
    return out


def statistics_of(statistics: dict[str, Any]) -> dict[Metric, int]:
    return {
        metric: int(statistics[field])
        for field, metric in STATISTICS.items()
        if str(statistics.get(field, "")).isdigit()
    }
