"""The sandbox frame: presets, counters, the reader page, reset; through its HTTP API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from services.sandbox.app import build_app
from services.sandbox.frame import Fault, PresetArgs, sandbox

pytestmark = pytest.mark.unit

probe = APIRouter()


@probe.post("/probe/{name}")
async def probe_post(name: str, request: Request) -> dict[str, object]:
    if (fault := await sandbox.fault("probe", request.url.path)) is not None:
        return fault  # type: ignore[return-value]
    body = await request.json()
    record = sandbox.record("probe", "post", {"name": name, **body})
    return {"id": record.id}


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = build_app()
    app.include_router(probe)
    sandbox.reset()
    with TestClient(app) as c:
        yield c
    sandbox.reset()
    sandbox.presets.pop("probe", None)
    sandbox.cards.pop("probe", None)


def test_records_are_listed_and_counted(client: TestClient) -> None:
    client.post("/probe/a", json={"text": "Hà Nội"}).raise_for_status()
    client.post("/probe/b", json={"text": "Đà Nẵng"}).raise_for_status()
    records = client.get("/_sandbox/records", params={"platform": "probe"}).json()
    assert [r["data"]["text"] for r in records] == ["Hà Nội", "Đà Nẵng"]
    later = client.get("/_sandbox/records", params={"after": records[0]["id"]}).json()
    assert [r["data"]["name"] for r in later] == ["b"]
    stats = client.get("/_sandbox/stats").json()["probe"]
    assert stats == {"requests": 2, "faulted": 0, "records": {"post": 2}}


def test_generic_rate_limit_preset_carries_reset_headers(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"platform": "probe", "preset": "rate_limit", "reset_after_s": 30})
    limited = client.post("/probe/a", json={})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "30"
    assert int(limited.headers["X-RateLimit-Reset"]) > 0
    assert client.post("/probe/a", json={}).status_code == 200  # count=1: the next call goes through
    assert client.get("/_sandbox/stats").json()["probe"]["faulted"] == 1


def test_platform_presets_override_generic_ones(client: TestClient) -> None:
    def graph_expired(args: PresetArgs) -> Fault:
        return Fault(args.platform, 400, {"error": {"code": 190, "type": "OAuthException"}})

    sandbox.register_presets("probe", {"expired_token": graph_expired})
    client.post("/_sandbox/faults", json={"platform": "probe", "preset": "expired_token", "count": 2})
    for _ in range(2):
        answer = client.post("/probe/a", json={})
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == 190
    assert client.post("/probe/a", json={}).status_code == 200
    with pytest.raises(ValueError, match="unknown"):
        sandbox.register_presets("probe", {"melted": graph_expired})


def test_fault_by_path_and_server_error_preset(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"platform": "probe", "preset": "server_error", "path": "/probe/b"})
    assert client.post("/probe/a", json={}).status_code == 200
    assert client.post("/probe/b", json={}).status_code == 503


def test_slow_preset_delays_then_answers(client: TestClient) -> None:
    import time

    client.post("/_sandbox/faults", json={"platform": "probe", "preset": "slow", "latency_ms": 300})
    started = time.monotonic()
    assert client.post("/probe/a", json={}).status_code == 200
    assert time.monotonic() - started >= 0.29


def test_unknown_preset_is_refused(client: TestClient) -> None:
    answer = client.post("/_sandbox/faults", json={"platform": "probe", "preset": "melted"})
    assert answer.status_code == 422


def test_clock_and_reset(client: TestClient) -> None:
    before = client.get("/_sandbox/clock").json()["now"]
    after = client.post("/_sandbox/clock/advance", params={"seconds": 3600}).json()["now"]
    assert after > before
    client.post("/probe/a", json={}).raise_for_status()
    client.post("/_sandbox/reset").raise_for_status()
    assert client.get("/_sandbox/records").json() == []
    assert client.get("/_sandbox/stats").json() == {}
    assert client.get("/_sandbox/clock").json()["now"] < after


def test_reader_page_escapes_and_uses_the_platform_card(client: TestClient) -> None:
    client.post("/probe/a", json={"text": "<script>alert('Đ')</script> Thông cáo báo chí"})
    page = client.get("/").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    assert "Thông cáo báo chí" in page

    sandbox.register_card(
        "probe",
        '<h3 class="probe-card">{{ data.text }}</h3><a href="{{ data.link | http_url }}">x</a>',
        visible=lambda r: r.data.get("name") != "hidden",
    )
    client.post("/probe/hidden", json={"text": "không hiển thị"})
    client.post("/probe/b", json={"text": "Bản tin <b>Đà Nẵng</b>", "link": "javascript:alert(1)"})
    page = client.get("/", params={"platform": "probe"}).text
    assert '<h3 class="probe-card">Bản tin &lt;b&gt;Đà Nẵng&lt;/b&gt;</h3>' in page
    assert "javascript:" not in page
    assert "không hiển thị" not in page


def test_an_after_fault_lets_the_emulator_act_then_holds_its_answer(client: TestClient) -> None:
    import time

    client.post(
        "/_sandbox/faults",
        json={"platform": "probe", "status": 0, "latency_ms": 400, "after": True, "path": "/probe/a"},
    ).raise_for_status()
    started = time.monotonic()
    held = client.post("/probe/a", json={"text": "Đà Lạt"})
    assert time.monotonic() - started >= 0.39
    assert held.status_code == 200
    assert held.json()["id"] == sandbox.list("probe")[0].id  # the emulator's own answer, late


def test_an_after_fault_with_a_status_replaces_the_answer_of_a_call_that_took_effect(
    client: TestClient,
) -> None:
    client.post(
        "/_sandbox/faults",
        json={"platform": "probe", "status": 502, "body": {"error": "bad_gateway"}, "after": True},
    ).raise_for_status()
    lost = client.post("/probe/a", json={"text": "Huế"})
    assert lost.status_code == 502
    assert lost.json() == {"error": "bad_gateway"}
    assert [r.data["text"] for r in sandbox.list("probe")] == ["Huế"]  # it happened all the same
    assert client.get("/_sandbox/stats").json()["probe"]["faulted"] == 1
    assert client.post("/probe/b", json={}).status_code == 200  # count=1
