"""Settings of the Zalo publisher (env ``LOA_ZALO_*``)."""

from __future__ import annotations

from pydantic import Field

from loa.mode import platform_url
from loa.publisher.settings import PublisherSettings


class ZaloSettings(PublisherSettings):
    # Zalo's documents call https://openapi.zalo.me/v2.0/article/create, .../v2.0/oa/message and
    # https://oauth.zaloapp.com/v4/oa/access_token: the adapter appends the /v2.0/... and /v4/...
    # paths to either base (https://developers.zalo.me/docs/official-account).
    zalo_openapi_url: str = platform_url(
        real="https://openapi.zalo.me", sandbox="http://127.0.0.1:8090/zalo/openapi", description="OA API"
    )
    zalo_oauth_url: str = platform_url(
        real="https://oauth.zaloapp.com", sandbox="http://127.0.0.1:8090/zalo/oauth", description="OA OAuth"
    )
    zalo_refresh_ahead_s: int = Field(
        default=3600, description="refresh an access token this long before it expires"
    )
    zalo_refresh_warn_days: int = Field(
        default=14, description="warn this long before a refresh token expires"
    )
    zalo_verify_attempts: int = Field(default=20, description="article/verify polls before giving up for now")
    zalo_timeout_s: float = Field(default=60.0, gt=0, description="per API call (uploads excepted)")
    zalo_upload_timeout_s: float = Field(default=600.0, gt=0, description="per video upload")
