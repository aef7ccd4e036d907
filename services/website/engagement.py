"""What an article did after publishing: its page views, as the website server counted them.

One call per reading, ``GET {LOA_WEBSITE_VIEWS_URL}/_api/v1/views?path=<the article's path>`` (the
delivery's external id) with the listener's service token (``LOA_WEBSITE_VIEWS_TOKEN``). The
website has views only (``Metric.VIEWS``): no reach, reactions, comments or shares of its own.
A WordPress account's posts are WordPress's pages, which this server does not serve: not followed.
"""

from __future__ import annotations

from typing import ClassVar

import httpx

from loa.channels import Account, AuthError, PermanentError, TransientError
from loa.channels.engagement import Observation
from loa.channels.http import http_error, retry_at
from loa.channels.threads import in_thread
from loa.events.engagement import Metric
from loa.tls import client_context
from services.website.settings import WebsiteSettings
from services.website.views_api import PATH


class WebsiteEngagement:
    channel: ClassVar[str] = "website"
    lists_comments: ClassVar[bool] = False

    def __init__(self, settings: WebsiteSettings | None = None, http: httpx.Client | None = None) -> None:
        self.settings = settings or WebsiteSettings()
        self.http = http or httpx.Client(timeout=10.0, follow_redirects=False, verify=client_context())

    async def read(self, account: Account, external_id: str) -> Observation:
        if account.options.get("mode") == "wordpress":
            raise PermanentError(
                f"account {account.name} publishes to WordPress, whose pages the website server does "
                "not serve or count",
                code="wordpress_mode",
            )
        token = self.settings.website_views_token.get_secret_value()
        if not token:
            raise AuthError("LOA_WEBSITE_VIEWS_TOKEN is not set: the website's page views need a token")
        return await in_thread(self._views, external_id, token)

    def _views(self, path: str, token: str) -> Observation:
        url = str(self.settings.website_views_url).rstrip("/") + PATH
        try:
            answer = self.http.get(url, params={"path": path}, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as e:
            raise TransientError(f"website server unreachable: {type(e).__name__}") from e
        if answer.status_code != 200:
            code, message = _error_of(answer)
            raise http_error(
                answer.status_code,
                f"GET {PATH} for {path}: {message}",
                code=code,
                excerpt=answer.text,
                retry_at=retry_at(answer.headers),
            )
        return Observation({Metric.VIEWS: int(answer.json()["views"])})

    async def read_comments(self, account: Account, external_id: str) -> Observation:
        """None: the office's website takes no comments (``lists_comments`` is False, so the listener
        never asks)."""
        return Observation({})

    def close(self) -> None:
        self.http.close()


def _error_of(answer: httpx.Response) -> tuple[str, str]:
    """The code and message of Loa's error envelope, or the status when the answer is not one."""
    try:
        error = answer.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return str(answer.status_code), f"answered {answer.status_code}"
