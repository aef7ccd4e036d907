"""Settings of the website publisher (env ``LOA_WEBSITE_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from loa.access.settings import AccessSettings
from loa.mode import platform_url
from loa.publisher.settings import PublisherSettings


class WebsiteSettings(PublisherSettings, AccessSettings):
    """The static site's look and index sizes, the read-only server and its page views, the
    WordPress default URL. ``AccessSettings``: the tokens the views endpoint accepts
    (``LOA_ACCESS_DATABASE_URL``)."""

    website_site_name: str = "Cổng thông tin điện tử Bộ Thông tin và Truyền thông"
    website_site_description: str = "Tin tức, thông cáo báo chí và thông báo chính thức"
    website_page_size: int = Field(default=20, ge=1, le=100, description="articles per index page")
    website_index_pages: int = Field(
        default=5, ge=1, le=50, description="paginated pages of the front index (newest N = pages x size)"
    )
    website_topic_pages: int = Field(default=2, ge=1, le=50, description="pages per tag and per unit")
    website_feed_size: int = Field(default=30, ge=1, le=200, description="entries in RSS and Atom")
    website_retract_mode: Literal["withdrawn", "delete"] = Field(
        default="withdrawn", description="withdrawn: a 410 page stays at the URL; delete: plain 404"
    )
    website_server_host: str = "127.0.0.1"
    website_server_port: int = 8082
    website_serve: bool = Field(default=True, description="run the read-only server in the publisher")
    website_views_flush_s: float = Field(
        default=30.0, gt=0, le=3600, description="the server writes its page-view counts this often"
    )
    website_views_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8082"),
        description="the website server the listener reads page views from (GET /_api/v1/views)",
    )
    website_views_token: SecretStr = Field(
        default=SecretStr(""),
        description="the listener's token for it (loa tokens issue listener --grant viewer:*)",
    )
    # The office's own WordPress has no address of its own to default to in production.
    website_wordpress_url: AnyHttpUrl | None = platform_url(
        real=None,
        sandbox="http://127.0.0.1:8090/wordpress",
        description="default WordPress site for accounts in wordpress mode (account option 'url' wins)",
    )
    website_wordpress_native_min_lead_s: float = Field(
        default=60.0,
        gt=0,
        description="WordPress mode: posts due at least this far ahead are sent as status future (WordPress "
        "publishes them); nearer ones Loa holds and sends at their time",
    )
    website_http_timeout_s: float = 30.0
