"""The Graph API emulator on its own (in-process ASGI client): the documented rules it enforces."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from services.sandbox.app import build_app
from services.sandbox.facebook import state
from services.sandbox.frame import sandbox

pytestmark = pytest.mark.unit
V = "/graph/v24.0"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(build_app()) as c:
        c.post("/_sandbox/reset")
        yield c
        c.post("/_sandbox/reset")  # the sandbox is process-wide: leave no clock offset behind


@pytest.fixture
def page(client: TestClient) -> tuple[str, dict[str, str]]:
    page_id, token = "123456789012345", f"EAAG{uuid.uuid4().hex}"
    assert client.post("/graph/_sandbox/pages", json={"id": page_id, "token": token}).status_code == 200
    return page_id, {"Authorization": f"OAuth {token}"}


def test_a_post_needs_the_pages_own_token(client: TestClient, page: tuple[str, dict[str, str]]) -> None:
    page_id, auth = page
    missing = client.post(f"{V}/{page_id}/feed", data={"message": "Xin chào"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == 104
    bad = client.post(f"{V}/{page_id}/feed", data={"message": "Xin chào", "access_token": "nope"})
    assert bad.json()["error"]["code"] == 190
    other = client.post(f"{V}/100000000000001/feed", data={"message": "Xin chào"}, headers=auth)
    assert other.status_code == 403
    assert other.json()["error"]["code"] == 200
    ok = client.post(f"{V}/{page_id}/feed", data={"message": "Xin chào"}, headers=auth)
    assert ok.json()["id"].startswith(f"{page_id}_")
    usage = json.loads(ok.headers["X-Business-Use-Case-Usage"])
    assert usage[page_id][0]["estimated_time_to_regain_access"] == 0
    assert "call_count" in json.loads(ok.headers["X-App-Usage"])


def test_an_expired_token_fails_with_190_463_and_the_error_object_shape(
    client: TestClient, page: tuple[str, dict[str, str]]
) -> None:
    page_id, auth = page
    client.post(f"/graph/_sandbox/pages/{page_id}/token_error", json={})
    error = client.get(f"{V}/{page_id}/feed", headers=auth).json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (190, 463, "OAuthException")
    assert error["fbtrace_id"]
    assert error["message"]


@pytest.mark.parametrize(
    ("ahead", "ok"),
    [
        (timedelta(minutes=9), False),
        (timedelta(minutes=11), True),
        (timedelta(days=29), True),
        (timedelta(days=31), False),
    ],
)
def test_the_scheduling_window_is_10_minutes_to_30_days(
    client: TestClient, page: tuple[str, dict[str, str]], ahead: timedelta, ok: bool
) -> None:
    page_id, auth = page
    when = int((sandbox.now() + ahead).timestamp())
    answer = client.post(
        f"{V}/{page_id}/feed",
        data={"message": "Lịch", "published": "false", "scheduled_publish_time": str(when)},
        headers=auth,
    )
    assert ("id" in answer.json()) is ok
    if not ok:
        assert answer.json()["error"]["code"] == 100


def test_a_scheduled_post_goes_live_when_the_clock_passes(
    client: TestClient, page: tuple[str, dict[str, str]]
) -> None:
    page_id, auth = page
    when = int((sandbox.now() + timedelta(hours=2)).timestamp())
    post_id = client.post(
        f"{V}/{page_id}/feed",
        data={"message": "Hẹn giờ", "published": "false", "scheduled_publish_time": str(when)},
        headers=auth,
    ).json()["id"]
    assert client.get(f"{V}/{page_id}/feed", headers=auth).json()["data"] == []
    assert [p["id"] for p in client.get(f"{V}/{page_id}/scheduled_posts", headers=auth).json()["data"]] == [
        post_id
    ]
    client.post("/_sandbox/clock/advance", params={"seconds": 7300})
    assert client.get(f"{V}/{post_id}", params={"fields": "is_published"}, headers=auth).json()[
        "is_published"
    ]
    assert client.get(f"{V}/{page_id}/scheduled_posts", headers=auth).json()["data"] == []


def test_the_same_status_twice_in_a_row_is_a_duplicate(
    client: TestClient, page: tuple[str, dict[str, str]]
) -> None:
    page_id, auth = page
    data = {"message": "Thông báo lịch tiếp công dân", "link": "https://example.gov.vn/a.html"}
    assert "id" in client.post(f"{V}/{page_id}/feed", data=data, headers=auth).json()
    assert client.post(f"{V}/{page_id}/feed", data=data, headers=auth).json()["error"]["code"] == 506


def test_resumable_video_rejects_a_wrong_offset_and_an_early_finish(
    client: TestClient, page: tuple[str, dict[str, str]]
) -> None:
    page_id, auth = page
    start = client.post(
        f"{V}/{page_id}/videos", data={"upload_phase": "start", "file_size": "10"}, headers=auth
    )
    session = start.json()["upload_session_id"]
    assert (start.json()["start_offset"], start.json()["end_offset"]) == ("0", "10")
    early = {"upload_phase": "finish", "upload_session_id": session}
    assert client.post(f"{V}/{page_id}/videos", data=early, headers=auth).json()["error"]["code"] == 6001
    wrong = {"upload_phase": "transfer", "upload_session_id": session, "start_offset": "5"}
    files = {"video_file_chunk": ("c", b"01234", "application/octet-stream")}
    assert (
        client.post(f"{V}/{page_id}/videos", data=wrong, files=files, headers=auth).json()["error"]["code"]
        == 6001
    )
    right = {**wrong, "start_offset": "0"}
    files = {"video_file_chunk": ("c", b"0123456789", "application/octet-stream")}
    assert client.post(f"{V}/{page_id}/videos", data=right, files=files, headers=auth).json() == {
        "start_offset": "10",
        "end_offset": "10",
    }
    done = client.post(f"{V}/{page_id}/videos", data={**early, "description": "Phóng sự"}, headers=auth)
    assert done.json() == {"success": True}


def test_the_page_view_shows_text_hashtags_and_the_link_card(
    client: TestClient, page: tuple[str, dict[str, str]]
) -> None:
    page_id, auth = page
    client.post(
        f"{V}/{page_id}/feed",
        data={"message": "Đại hội <Đoàn> #ThanhNiên", "link": "https://example.gov.vn/dai-hoi.html"},
        headers=auth,
    )
    html = client.get("/graph/_page", params={"page_id": page_id}).text
    assert "Đại hội &lt;Đoàn&gt;" in html
    assert 'class="tag"' in html
    assert "#ThanhNiên" in html
    assert "EXAMPLE.GOV.VN" in html


def test_reset_clears_the_emulator(client: TestClient, page: tuple[str, dict[str, str]]) -> None:
    page_id, auth = page
    client.post(f"{V}/{page_id}/feed", data={"message": "Một"}, headers=auth)
    client.post("/_sandbox/reset")
    assert not state().posts
    assert page_id not in state().pages
