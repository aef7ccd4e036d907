"""Settings of the TikTok publisher (env ``LOA_TIKTOK_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from loa.mode import platform_url
from loa.publisher.settings import PublisherSettings

PrivacyLevel = Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
"""``post_info.privacy_level`` (developers.tiktok.com/doc/content-posting-api-reference-direct-post);
the creator's ``privacy_level_options`` say which of them an account may use."""


class TikTokSettings(PublisherSettings):
    # The Content Posting API and OAuth v2 share one host (developers.tiktok.com/doc/
    # content-posting-api-reference-direct-post, …/oauth-user-access-token-management); the upload
    # URL is the one each init answers (open-upload.tiktokapis.com), never configured.
    tiktok_api_url: str = platform_url(
        real="https://open.tiktokapis.com",
        sandbox="http://127.0.0.1:8090/tiktok",
        description="Content Posting API and OAuth v2 base URL",
    )
    tiktok_chunk_bytes: int = Field(
        default=10_000_000,
        ge=5 * 1024 * 1024,
        le=64_000_000,
        description="chunk size of an upload: 5 MB to 64 MB (TikTok's Media Transfer Guide; "
        "10,000,000 is its own example); a smaller video goes whole",
    )
    tiktok_privacy_level: PrivacyLevel = Field(
        default="PUBLIC_TO_EVERYONE",
        description="privacy of a post unless the account's or target's option privacy_level says "
        "otherwise; it must be one of the creator's privacy_level_options",
    )
    tiktok_status_checks: int = Field(
        default=20, ge=1, description="status polls per attempt before the post counts as still processing"
    )
    tiktok_status_interval_s: float = Field(
        default=3.0, ge=0, description="wait between status polls (the endpoint allows 30 a minute)"
    )
    tiktok_timeout_s: float = Field(default=30.0, gt=0, description="per API call")
    tiktok_upload_timeout_s: float = Field(default=300.0, gt=0, description="per chunk PUT")
