"""Point an SDK that hardcodes its platform's host at a configured base URL, per session.

Some SDKs build their URLs from a constant (tweepy's ``https://api.twitter.com``, facebook-sdk's
module-global ``FACEBOOK_GRAPH_URL``). A transport adapter mounted on their ``requests`` session
rewrites each request after the SDK has built (and signed) it, so no global is touched and two
base URLs can live in one process; it also bounds every call with a timeout.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class RewritingAdapter(HTTPAdapter):
    """Sends requests for ``origin`` to ``base_url`` instead, each with a timeout."""

    def __init__(self, origin: str, base_url: str, timeout: float, **pool: Any) -> None:
        super().__init__(**pool)
        self.origin = origin.rstrip("/")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        if request.url.startswith(self.origin):
            request.url = self.base_url + request.url[len(self.origin) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def route(session: requests.Session, origins: Iterable[str], base_url: str, timeout: float = 30.0) -> None:
    """Send every request of ``session`` for ``origins`` to ``base_url`` (unchanged when it is one)."""
    base = base_url.rstrip("/")
    origins = [o.rstrip("/") for o in origins]
    for origin in origins:
        session.mount(origin, RewritingAdapter(origin, origin if base in origins else base, timeout))
