"""The one place that sends tweepy's traffic to the configured base URL, with a timeout.

tweepy 4.17 hardcodes ``https://api.twitter.com`` in ``Client.request`` and sets no timeout; the
shared rewriting transport (``loa.channels.transport``) mounted on its session sends each request,
after OAuth has signed it (so the signature still covers the URL X would see), to the base URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loa.channels import transport

if TYPE_CHECKING:
    import requests

X_HOSTS = ("https://api.twitter.com", "https://api.x.com", "https://upload.twitter.com")


def route(session: requests.Session, base_url: str, timeout: float = 30.0) -> None:
    """Send every X host of ``session`` to ``base_url`` (itself when it is X), each call bounded."""
    transport.route(session, X_HOSTS, base_url, timeout)
