"""The sandbox's citizens' comments: deterministic per seed, as many as the figures say, the
misinformation scenario played through /_sandbox with its options checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from services.sandbox import citizen_comments, engagement
from services.sandbox.app import build_app
from services.sandbox.frame import sandbox

pytestmark = pytest.mark.unit


def test_comments_are_the_seeds_and_match_the_count() -> None:
    sandbox.reset()
    published = sandbox.now() - timedelta(hours=5)
    first = citizen_comments.comments("facebook", "1000_77", published)
    assert first == citizen_comments.comments("facebook", "1000_77", published)  # same seed, same list
    figures = engagement.simulation.figures("facebook", "1000_77", published)
    assert len(first) == figures["comments"] > 0
    assert all(published <= c.created <= sandbox.now() for c in first)
    assert [c.created for c in first] == sorted(c.created for c in first)
    engagement.simulation.seed = 99
    assert citizen_comments.comments("facebook", "1000_77", published) != first


def test_the_scenario_is_played_through_the_control_api_and_its_options_are_checked() -> None:
    sandbox.reset()
    client = TestClient(build_app())
    url = "/_sandbox/engagement/scenarios"
    assert client.post(f"{url}/nhieu-tin-gia").status_code == 404
    wrong = client.post(f"{url}/misinformation", json={"count": 0})
    assert wrong.status_code == 422 and "count" in wrong.text
    unknown = client.post(f"{url}/misinformation", json={"after": 60})
    assert unknown.status_code == 422 and "options" in unknown.text
    played = client.post(f"{url}/misinformation", json={"after_s": 1800, "count": 7, "spread_s": 60})
    assert played.status_code == 200 and played.json()["count"] == 7
    published = sandbox.now() - timedelta(minutes=29)
    before = citizen_comments.comments("youtube", "dQw4w9WgXcQ", published)
    assert not any(c.text in citizen_comments.FALSE_CLAIMS for c in before)
    later = sandbox.now() - timedelta(minutes=32)
    burst = [
        c
        for c in citizen_comments.comments("youtube", "dQw4w9WgXcQ", later)
        if c.text in citizen_comments.FALSE_CLAIMS
    ]
    assert len(burst) == 7
    assert engagement.simulation.figures("youtube", "dQw4w9WgXcQ", later)["commentCount"] == len(
        citizen_comments.comments("youtube", "dQw4w9WgXcQ", later)
    )
    client.post("/_sandbox/reset")
    assert engagement.simulation.scenarios == []
