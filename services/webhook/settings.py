"""Settings of the webhook publisher (env ``LOA_WEBHOOK_*``); the URL and secret are per account."""

from __future__ import annotations

from pydantic import Field

from loa.publisher.settings import PublisherSettings


class WebhookSettings(PublisherSettings):
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="per request, connect to last byte")
    webhook_presign_media: bool = Field(
        default=True, description="add a presigned MinIO URL to each media reference at publish time"
    )
    webhook_media_url_ttl_s: int = Field(default=24 * 3600, gt=0, le=7 * 24 * 3600)
