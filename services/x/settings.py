"""Settings of the X publisher (env ``LOA_X_*``)."""

from __future__ import annotations

from pydantic import Field

from loa.publisher.settings import PublisherSettings


class XSettings(PublisherSettings):
    x_api_url: str = Field(
        default="http://127.0.0.1:8090/x",
        description="replaces https://api.twitter.com (the sandbox by default)",
    )
    x_media_chunk_bytes: int = Field(
        default=4 * 1024 * 1024, le=5 * 1024 * 1024, description="≤ 5 MB per APPEND"
    )
    x_upload_memory_mb: int = Field(
        default=32, ge=1, description="memory for the APPENDs in flight (a chunk and its body each)"
    )
    x_status_poll_max: int = Field(default=60, description="STATUS polls before a video counts as stuck")
    x_timeout_s: float = Field(default=30.0, gt=0, description="per HTTP call (tweepy sets none)")
