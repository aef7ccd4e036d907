"""The YouTube service's resources are built once, not at every call (``services/youtube/api.py``,
``ResourcesBuiltOnce``): the SDK rebuilds a resource from the discovery document at each call of its
accessor, ~1 ms of CPU, several times a delivery."""

from __future__ import annotations

import pytest

from services.youtube.api import build_service
from services.youtube.settings import YouTubeSettings

pytestmark = pytest.mark.unit


def test_a_resource_is_built_at_its_first_use_only() -> None:
    service = build_service(YouTubeSettings())
    assert service.videos() is service.videos()
    assert service.thumbnails() is service.thumbnails()
    assert service.videos() is not service.thumbnails()


def test_requests_still_name_their_own_method_and_parameters() -> None:
    """One resource for every request: each request is built apart, with its own parameters."""
    service = build_service(YouTubeSettings(youtube_api_url="https://youtube.test"))
    first = service.videos().list(part="status", id="a1")
    second = service.videos().list(part="snippet", id="b2")
    assert (first.method, second.method) == ("GET", "GET")
    assert "id=a1" in first.uri and "part=status" in first.uri
    assert "id=b2" in second.uri and "part=snippet" in second.uri
    assert first.uri.startswith("https://youtube.test/youtube/v3/videos")


def test_what_is_not_a_resource_is_the_services_own() -> None:
    """A service method (a batch) is passed through, called afresh each time."""
    service = build_service(YouTubeSettings())
    assert service.new_batch_http_request() is not service.new_batch_http_request()
