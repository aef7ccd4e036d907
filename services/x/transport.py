"""The one place that sends tweepy's traffic to the configured base URL, with a timeout.

tweepy 4.17 hardcodes ``https://api.twitter.com`` in ``Client.request`` and sets no timeout; a
transport adapter mounted on its ``requests`` session rewrites each request after OAuth has signed
it (so the signature still covers the URL X would see) and bounds every call.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

X_HOSTS = ("https://api.twitter.com", "https://api.x.com", "https://upload.twitter.com")


class _Rewrite(HTTPAdapter):
    def __init__(self, origin: str, base_url: str, timeout: float) -> None:
        super().__init__()
        self.origin = origin
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        request.url = self.base_url + request.url[len(self.origin) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def route(session: requests.Session, base_url: str, timeout: float = 30.0) -> None:
    """Send every X host of ``session`` to ``base_url`` (itself when it is X), each call bounded."""
    base = base_url.rstrip("/")
    for origin in X_HOSTS:
        session.mount(origin, _Rewrite(origin, origin if base in X_HOSTS else base, timeout))
