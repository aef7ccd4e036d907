"""Settings of the X publisher (env ``LOA_X_*``)."""

from __future__ import annotations

from pydantic import Field

from loa.mode import platform_url
from loa.publisher.settings import PublisherSettings


class XSettings(PublisherSettings):
    # X's own name for the API host (docs.x.com); tweepy still hardcodes https://api.twitter.com,
    # which services/x/transport.py sends here. The OAuth 2.0 token path /2/oauth2/token follows it.
    x_api_url: str = platform_url(
        real="https://api.x.com", sandbox="http://127.0.0.1:8090/x", description="X API v2 base URL"
    )
    x_media_chunk_bytes: int = Field(
        default=4 * 1024 * 1024, le=5 * 1024 * 1024, description="≤ 5 MB per APPEND"
    )
    x_upload_memory_mb: int = Field(
        default=32, ge=1, description="memory for the APPENDs in flight (a chunk and its body each)"
    )
    x_status_poll_max: int = Field(default=60, description="STATUS polls before a video counts as stuck")
    x_timeout_s: float = Field(default=30.0, gt=0, description="per HTTP call (tweepy sets none)")
