"""The YouTube emulator checked against the discovery document google-api-python-client ships
(``googleapiclient/discovery_cache/documents/youtube.v3.json``): methods, parameters, part names
and the field names of what it answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import googleapiclient
import pytest
from fastapi.testclient import TestClient

from services.sandbox.app import build_app
from services.sandbox.youtube_methods import METHODS, PROTOCOL

pytestmark = pytest.mark.unit

DOCUMENT = Path(googleapiclient.__file__).parent / "discovery_cache/documents/youtube.v3.json"
DISCOVERY: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
SCHEMAS: dict[str, Any] = DISCOVERY["schemas"]
API = "/youtube/v3"


def document_method(name: str) -> dict[str, Any]:
    resource, method = name.split(".")
    return dict(DISCOVERY["resources"][resource]["methods"][method])


def unknown_fields(value: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Every key of ``value`` the schema does not name, as a dotted path."""
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"]]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in unknown_fields(v, schema.get("items", {}), where)]
    if not isinstance(value, dict) or schema.get("type") != "object":
        return []
    properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
    out = []
    for key, child in value.items():
        if key in properties:
            out += unknown_fields(child, properties[key], f"{where}.{key}")
        elif extra is not None:
            out += unknown_fields(child, extra, f"{where}.{key}")
        else:
            out.append(f"{where}.{key}")
    return out


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_emulated_method_takes_the_documents_parameters(name: str) -> None:
    method, documented = METHODS[name], document_method(name)
    parameters = documented.get("parameters", {})
    assert method.required == {p for p, spec in parameters.items() if spec.get("required")}
    assert method.reads - PROTOCOL <= set(parameters)
    assert method.parts <= set(SCHEMAS[method.resource]["properties"]), "parts are resource properties"


def test_the_document_says_max_results_goes_without_id() -> None:
    description = document_method("videos.list")["parameters"]["maxResults"]["description"]
    assert "not supported for use in conjunction with the [`id`]" in description


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(build_app()) as c:
        c.post("/_sandbox/reset")
        yield c
        c.post("/_sandbox/reset")


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "client_id": "id",
        "client_secret": "s",
        "refresh_token": "1//kenh",
    }
    token = client.post("/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


SNIPPET = {
    "title": "Họp báo Chính phủ thường kỳ tháng 11",
    "description": "Toàn văn buổi họp báo.",
    "tags": ["họp báo", "Chính phủ"],
    "categoryId": "25",
    "defaultLanguage": "vi",
    "defaultAudioLanguage": "vi",
}


def upload(client: TestClient, auth: dict[str, str], part: str) -> dict[str, Any]:
    data = b"\x00" * 1000
    started = client.post(
        f"/upload{API}/videos",
        params={"uploadType": "resumable", "part": part},
        json={"snippet": SNIPPET, "status": {"privacyStatus": "public"}},
        headers={**auth, "X-Upload-Content-Length": str(len(data))},
    )
    assert started.status_code == 200, started.text
    done = client.put(
        started.headers["Location"], content=data, headers={"Content-Range": f"bytes 0-999/{len(data)}"}
    )
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_an_upload_answers_with_the_parts_it_asked_for(client: TestClient, auth: dict[str, str]) -> None:
    video = upload(client, auth, "snippet,status")
    assert set(video) == {"kind", "etag", "id", "snippet", "status"}
    assert unknown_fields(video, {"$ref": "Video"}) == []


def test_videos_list_answers_only_the_parts_asked_and_keeps_the_audio_language(
    client: TestClient, auth: dict[str, str]
) -> None:
    video_id = upload(client, auth, "snippet,status")["id"]
    for part in ("snippet", "status", "processingDetails", "fileDetails", "id"):
        listed = client.get(f"{API}/videos", params={"part": part, "id": video_id}, headers=auth).json()
        assert unknown_fields(listed, {"$ref": "VideoListResponse"}) == []
        assert set(listed["items"][0]) == {"kind", "etag", "id"} | {part}
    snippet = client.get(f"{API}/videos", params={"part": "snippet", "id": video_id}, headers=auth).json()
    assert snippet["items"][0]["snippet"]["defaultAudioLanguage"] == "vi"


def test_an_update_keeps_the_audio_language_it_is_sent(client: TestClient, auth: dict[str, str]) -> None:
    video_id = upload(client, auth, "snippet")["id"]
    body = {"id": video_id, "snippet": {**SNIPPET, "title": "Họp báo (cập nhật)"}}
    updated = client.put(f"{API}/videos", params={"part": "snippet"}, json=body, headers=auth).json()
    assert updated["snippet"]["defaultAudioLanguage"] == "vi"
    assert unknown_fields(updated, {"$ref": "Video"}) == []
    # Left out of an update, a mutable snippet property is deleted, as videos.update documents.
    body["snippet"] = {k: v for k, v in SNIPPET.items() if k != "defaultAudioLanguage"}
    updated = client.put(f"{API}/videos", params={"part": "snippet"}, json=body, headers=auth).json()
    assert "defaultAudioLanguage" not in updated["snippet"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"id": "x"}, "required"),  # part is required
        ({"part": "snippet,topicDetails", "id": "x"}, "unexpectedPart"),  # a part the emulator cannot serve
        ({"part": "snippet", "id": "x", "maxResults": "50"}, "incompatibleParameters"),
    ],
)
def test_videos_list_refuses_what_the_document_does_not_allow(
    client: TestClient, auth: dict[str, str], params: dict[str, str], reason: str
) -> None:
    answer = client.get(f"{API}/videos", params=params, headers=auth)
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["reason"] == reason


def test_channel_and_playlist_answers_use_the_documents_field_names(
    client: TestClient, auth: dict[str, str]
) -> None:
    upload(client, auth, "snippet")
    channels = client.get(f"{API}/channels", params={"part": "contentDetails", "mine": "true"}, headers=auth)
    assert unknown_fields(channels.json(), {"$ref": "ChannelListResponse"}) == []
    uploads = channels.json()["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
    for part in ("contentDetails", "snippet"):
        items = client.get(
            f"{API}/playlistItems", params={"part": part, "playlistId": uploads}, headers=auth
        ).json()
        assert unknown_fields(items, {"$ref": "PlaylistItemListResponse"}) == []
        assert set(items["items"][0]) == {"kind", "id", part}
