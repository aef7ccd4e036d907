"""``loa.engagement.v1``: what a platform said of one published post at one moment (key = content id).

The listener (``services/listener``) polls each post it follows and writes one event per poll; the
tracker keeps every sample as a time series (``engagement_samples``). A metric a platform does not
give is absent, never zero (each channel's README says which figures exist).

The same poll writes ``comments.observed`` (added in schema 1 without breaking it: a new ``type`` on
the same topic, so producer, consumer group and ACLs are unchanged) with the citizens' comments the
platform lists for the post; the tracker keeps each comment once (``post_comments``, the inbox).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import AwareDatetime, Field

from loa.events.content import AccountName, ChannelName, ContentId
from loa.events.envelope import Envelope, Model

METRIC_MAX = 10**15
"""Far above any real count; a larger value is a platform answer or a forged event gone wrong."""


class Metric(StrEnum):
    """The figures Loa keeps, named once for every channel (each reader maps the platform's fields)."""

    IMPRESSIONS = "impressions"
    """Times the post was shown (Facebook ``post_impressions``, X ``impression_count``)."""
    REACH = "reach"
    """People it was shown to (Facebook ``post_impressions_unique``)."""
    VIEWS = "views"
    """Views of the video or the page (YouTube ``viewCount``, the website's own count)."""
    REACTIONS = "reactions"
    """Likes and other reactions (Facebook ``reactions``, YouTube ``likeCount``, X ``like_count``)."""
    COMMENTS = "comments"
    """Comments or replies (Facebook ``comments``, YouTube ``commentCount``, X ``reply_count``)."""
    SHARES = "shares"
    """Shares or reposts (Facebook ``shares``, X ``retweet_count``)."""
    QUOTES = "quotes"
    """X ``quote_count``."""
    BOOKMARKS = "bookmarks"
    """X ``bookmark_count``."""


class Engagement(Model):
    """The figures of one post (one delivery: content, channel, account) as observed at one time."""

    content_id: ContentId
    version: Annotated[int, Field(ge=1)]
    channel: ChannelName
    account: AccountName
    external_id: Annotated[str, Field(min_length=1, max_length=500)]
    observed_at: AwareDatetime
    metrics: dict[Metric, Annotated[int, Field(ge=0, le=METRIC_MAX)]]


class EngagementObserved(Envelope):
    type: Literal["engagement.observed"] = "engagement.observed"
    payload: Engagement


COMMENTS_PER_EVENT = 500
"""A poll sends at most this many comments (the newest); more wait for the next poll."""


class PostComment(Model):
    """One comment or reply on a published post, as the platform lists it."""

    external_id: Annotated[str, Field(min_length=1, max_length=500)]
    author: Annotated[str, Field(max_length=300)] = ""
    text: Annotated[str, Field(max_length=10_000)]
    created_at: AwareDatetime


class Comments(Model):
    """The comments of one post (one delivery: content, channel, account) listed at one time."""

    content_id: ContentId
    version: Annotated[int, Field(ge=1)]
    channel: ChannelName
    account: AccountName
    external_id: Annotated[str, Field(min_length=1, max_length=500)]
    observed_at: AwareDatetime
    comments: Annotated[list[PostComment], Field(max_length=COMMENTS_PER_EVENT)]


class CommentsObserved(Envelope):
    type: Literal["comments.observed"] = "comments.observed"
    payload: Comments


EngagementEvent: TypeAlias = Annotated[EngagementObserved | CommentsObserved, Field(discriminator="type")]
"""What ``loa.engagement.v1`` carries."""
