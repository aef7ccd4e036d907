"""The one place that sends tweepy's traffic to the configured base URL.

tweepy 4.17 hardcodes ``https://api.twitter.com`` in ``Client.request``; a transport adapter
mounted on its ``requests`` session rewrites each request after OAuth has signed it, so the
signature still covers the URL X would see.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

X_HOSTS = ("https://api.twitter.com", "https://api.x.com", "https://upload.twitter.com")


class _Rewrite(HTTPAdapter):
    def __init__(self, origin: str, base_url: str) -> None:
        super().__init__()
        self.origin = origin
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        request.url = self.base_url + request.url[len(self.origin) :]
        return super().send(request, **kwargs)


def route(session: requests.Session, base_url: str) -> None:
    """Send every X host of ``session`` to ``base_url`` (no-op when it is X itself)."""
    if base_url.rstrip("/") in X_HOSTS:
        return
    for origin in X_HOSTS:
        session.mount(origin, _Rewrite(origin, base_url))
