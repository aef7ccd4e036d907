"""Settings of the Facebook publisher (env ``LOA_FACEBOOK_*``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from loa.mode import platform_url
from loa.publisher.settings import PublisherSettings
from loa.settings import is_local_url

FACEBOOK_MIN_LEAD_S = 10 * 60
"""Facebook refuses a ``scheduled_publish_time`` under 10 minutes ahead
(https://developers.facebook.com/docs/pages-api/posts); the post would then fail."""


class FacebookSettings(PublisherSettings):
    facebook_graph_url: str = platform_url(
        # facebook-sdk's own FACEBOOK_GRAPH_URL; the adapter appends /<version>/<path> to either
        real="https://graph.facebook.com",
        sandbox="http://127.0.0.1:8090/graph",
        description="Graph API base URL without version",
    )
    facebook_graph_version: str = Field(default="v24.0", pattern=r"^v\d+\.\d+$")
    facebook_timeout_s: float = Field(default=60.0, gt=0)
    facebook_native_scheduling: bool = Field(
        default=True,
        description="hand posts due far enough ahead to Facebook's own scheduler (per account too)",
    )
    # "The publish date must be between 10 minutes and 30 days from the time of the API request"
    # (https://developers.facebook.com/docs/pages-api/posts, scheduled posts).
    facebook_native_min_lead_s: int = Field(
        default=15 * 60,
        gt=0,
        description="hand to Facebook only posts due at least this far ahead (at least 600: Facebook "
        "refuses under 10 min; lower only against a local sandbox, for tests); nearer: Loa holds them",
    )
    facebook_native_max_lead_s: int = Field(
        default=30 * 24 * 3600 - 3600,
        gt=0,
        description="hand to Facebook only posts due at most this far ahead (Facebook: 30 days, minus an "
        "hour of clock margin); later ones are handed over once they come within it",
    )
    facebook_find_window_s: int = Field(
        default=2 * 24 * 3600,
        gt=0,
        description="how far back find_existing looks when no attempt time is known",
    )

    @model_validator(mode="after")
    def _min_lead_facebook_accepts(self) -> FacebookSettings:
        too_short = self.facebook_native_min_lead_s < FACEBOOK_MIN_LEAD_S
        if too_short and not is_local_url(self.facebook_graph_url):
            raise ValueError(
                f"facebook_native_min_lead_s: {self.facebook_native_min_lead_s} is under the "
                f"{FACEBOOK_MIN_LEAD_S} s Facebook requires (allowed only against a local sandbox)"
            )
        return self
