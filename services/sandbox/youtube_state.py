"""The YouTube emulator's state: channels, tokens, upload sessions, videos and the daily quota.

Quota rules (https://developers.google.com/youtube/v3/determine_quota_cost and
https://developers.google.com/youtube/v3/getting-started#quota): every request costs at least
one unit, even an invalid one; ``videos.insert`` and ``search.list`` have their own buckets of
100 calls a day (1 per call); everything else shares 10,000 units a day; quotas reset at
midnight Pacific Time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.sandbox import engagement
from services.sandbox.frame import sandbox

PACIFIC = ZoneInfo("America/Los_Angeles")
ACCESS_TOKEN_TTL = timedelta(seconds=3599)
SESSION_TTL = timedelta(days=7)
LANGUAGES = ("defaultLanguage", "defaultAudioLanguage")
"""The snippet's language properties (``VideoSnippet`` of the discovery document): kept as sent."""
"""Resumable sessions stay valid for about a week."""
PROCESSING_TIME = timedelta(seconds=2)
"""Sandbox-clock time from the last byte to ``processingStatus: succeeded``."""

# method -> (bucket, units); https://developers.google.com/youtube/v3/determine_quota_cost
QUOTA_COSTS: dict[str, tuple[str, int]] = {
    "videos.insert": ("videos.insert", 1),
    "search.list": ("search.list", 1),
    "videos.list": ("default", 1),
    "videos.update": ("default", 50),
    "videos.delete": ("default", 50),
    "thumbnails.set": ("default", 50),
    "channels.list": ("default", 1),
    "playlistItems.list": ("default", 1),
    "commentThreads.list": ("default", 1),
    "comments.list": ("default", 1),
    "comments.insert": ("default", 50),
    "comments.setModerationStatus": ("default", 50),
}
DEFAULT_LIMITS = {"default": 10_000, "videos.insert": 100, "search.list": 100}


def pacific_day(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


def next_pacific_midnight(now: datetime) -> datetime:
    day = pacific_day(now) + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=PACIFIC)


def new_id(length: int = 11) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def channel_of(refresh_token: str) -> str:
    """Each refresh token stands for one channel: ``UC`` + 22 characters, stable."""
    digest = hashlib.sha256(refresh_token.encode()).hexdigest()
    return "UC" + digest[:22]


@dataclass
class UploadSession:
    id: str
    channel_id: str
    metadata: dict[str, Any]
    total: int | None
    content_type: str
    created: datetime
    received: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)
    video_id: str | None = None
    chunks: int = 0


@dataclass
class Video:
    id: str
    channel_id: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    size: int
    sha256: str
    uploaded_at: datetime
    thumbnail: bytes | None = None
    thumbnail_type: str = "image/jpeg"
    card: dict[str, Any] = field(default_factory=dict)
    """The data of this video's ``video`` record (the reader page's card), kept current by ``sync``."""
    shown_as: str | None = None
    """The privacy last recorded as a ``privacy`` record (one record per change, never rewritten)."""

    def view(self) -> dict[str, Any]:
        """How a viewer sees the video: what the reader page's card shows."""
        return {
            "id": self.id,
            "title": self.snippet["title"],
            "description": self.snippet.get("description", ""),
            "tags": list(self.snippet.get("tags", [])),
            "privacy": self.status["privacyStatus"],
            "publish_at": self.status.get("publishAt"),
            "upload_status": self.status["uploadStatus"],
            "thumbnail": self.thumbnail is not None,
            "size": self.size,
            "sha256": self.sha256,
        }

    def sync(self) -> None:
        """Bring the card up to date; a new privacy also leaves a ``privacy`` record (who could see
        the video, and from when: the card only shows the latest)."""
        self.card.update(self.view())
        if self.status["privacyStatus"] != self.shown_as:
            self.shown_as = self.status["privacyStatus"]
            sandbox.record("youtube", "privacy", {"id": self.id, "privacy": self.shown_as})

    def refresh(self, now: datetime) -> None:
        """Lazily apply what time does: processing finishes, a scheduled video goes public."""
        if self.status["uploadStatus"] == "uploaded" and now - self.uploaded_at >= PROCESSING_TIME:
            self.status["uploadStatus"] = "processed"
        publish_at = self.status.get("publishAt")
        due = publish_at and datetime.fromisoformat(publish_at.replace("Z", "+00:00")) <= now
        if self.status["privacyStatus"] == "private" and due:
            self.status["privacyStatus"] = "public"
            self.status.pop("publishAt")
        self.sync()

    def resource(self, parts: set[str], base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "youtube#video", "etag": self.etag(), "id": self.id}
        if "snippet" in parts:
            snippet = dict(self.snippet)
            snippet["thumbnails"] = self.thumbnails(base_url)
            snippet["localized"] = {"title": snippet["title"], "description": snippet["description"]}
            out["snippet"] = snippet
        if "status" in parts:
            out["status"] = dict(self.status)
        if "processingDetails" in parts:
            done = self.status["uploadStatus"] == "processed"
            out["processingDetails"] = {"processingStatus": "succeeded" if done else "processing"}
        if "fileDetails" in parts:
            out["fileDetails"] = {"fileSize": str(self.size)}
        if "statistics" in parts:
            # https://developers.google.com/youtube/v3/docs/videos#statistics: counts as strings;
            # favoriteCount deprecated (always "0"); dislikeCount private since December 2021.
            figures = engagement.simulation.figures("youtube", self.id, self.uploaded_at)
            out["statistics"] = {**{k: str(v) for k, v in figures.items()}, "favoriteCount": "0"}
        return out

    def thumbnails(self, base_url: str) -> dict[str, Any]:
        url = (
            f"{base_url}_sandbox/youtube/thumbnails/{self.id}"
            if self.thumbnail
            else (f"{base_url}_sandbox/youtube/thumbnails/default")
        )
        return {"default": {"url": url, "width": 120, "height": 90}}

    def etag(self) -> str:
        raw = f"{self.id}{self.snippet}{self.status}".encode()
        return hashlib.sha256(raw).hexdigest()[:27]


@dataclass
class Token:
    channel_id: str
    expires: datetime


class YouTubeState:
    """Everything the emulator knows; rebuilt when the sandbox is reset."""

    def __init__(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.revoked: set[str] = set()
        self.sessions: dict[str, UploadSession] = {}
        self.videos: dict[str, Video] = {}
        self.usage: dict[tuple[date, str], int] = {}
        self.limits: dict[str, int] = dict(DEFAULT_LIMITS)
        self.uploads_per_channel_day: int | None = None
        """A channel's own upload cap per day (``uploadLimitExceeded``); None = no cap."""
        self.uploads: dict[tuple[date, str], int] = {}

    # -- OAuth -------------------------------------------------------------------------
    def issue_token(self, refresh_token: str) -> str:
        token = "ya29." + secrets.token_urlsafe(32)
        self.tokens[token] = Token(channel_of(refresh_token), sandbox.now() + ACCESS_TOKEN_TTL)
        return token

    def revoke(self, refresh_token: str) -> None:
        """The next refresh answers ``invalid_grant``; the access tokens it gave stop working."""
        self.revoked.add(refresh_token)
        channel = channel_of(refresh_token)
        for key in [k for k, t in self.tokens.items() if t.channel_id == channel]:
            del self.tokens[key]

    def channel_for(self, access_token: str) -> str | None:
        token = self.tokens.get(access_token)
        if token is None or token.expires <= sandbox.now():
            return None
        return token.channel_id

    # -- quota ------------------------------------------------------------------------
    def charge(self, method: str) -> bool:
        """Charge the call's cost; False (and nothing charged) when its bucket is exhausted."""
        bucket, units = QUOTA_COSTS[method]
        key = (pacific_day(sandbox.now()), bucket)
        used = self.usage.get(key, 0)
        if used + units > self.limits[bucket]:
            return False
        self.usage[key] = used + units
        return True

    def used(self, bucket: str) -> int:
        return self.usage.get((pacific_day(sandbox.now()), bucket), 0)

    def count_upload(self, channel_id: str) -> bool:
        """Count one upload of a channel today; False when its own daily cap is reached."""
        key = (pacific_day(sandbox.now()), channel_id)
        if self.uploads_per_channel_day is not None and self.uploads.get(key, 0) >= (
            self.uploads_per_channel_day
        ):
            return False
        self.uploads[key] = self.uploads.get(key, 0) + 1
        return True

    # -- videos -----------------------------------------------------------------------
    def finish(self, session: UploadSession) -> Video:
        now = sandbox.now()
        snippet = dict(session.metadata.get("snippet") or {})
        status = dict(session.metadata.get("status") or {})
        video = Video(
            id=new_id(),
            channel_id=session.channel_id,
            snippet={
                "publishedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "channelId": session.channel_id,
                "title": snippet.get("title") or "unknown",
                "description": snippet.get("description", ""),
                "tags": list(snippet.get("tags") or []),
                "categoryId": snippet.get("categoryId", "22"),
                "liveBroadcastContent": "none",
                "channelTitle": f"Kênh {session.channel_id[-6:]}",
                **{key: snippet[key] for key in LANGUAGES if key in snippet},
            },
            status={
                "uploadStatus": "uploaded",
                "privacyStatus": status.get("privacyStatus", "public"),
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": bool(status.get("selfDeclaredMadeForKids", False)),
                "selfDeclaredMadeForKids": bool(status.get("selfDeclaredMadeForKids", False)),
                **({"publishAt": status["publishAt"]} if status.get("publishAt") else {}),
            },
            size=session.received,
            sha256=session.hasher.hexdigest(),
            uploaded_at=now,
        )
        self.videos[video.id] = video
        session.video_id = video.id
        video.card = sandbox.record("youtube", "video", video.view()).data
        video.sync()
        return video

    def uploads_of(self, channel_id: str) -> list[Video]:
        """A channel's uploads, newest first (as its uploads playlist lists them)."""
        mine = [v for v in self.videos.values() if v.channel_id == channel_id]
        return sorted(mine, key=lambda v: v.uploaded_at, reverse=True)


_state = YouTubeState()


def state() -> YouTubeState:
    """The emulator's current state (``/_sandbox/reset`` replaces it with an empty one)."""
    return _state


def reset() -> None:
    global _state
    _state = YouTubeState()


sandbox.on_reset(reset)
