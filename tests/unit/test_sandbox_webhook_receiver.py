"""The webhook receiver emulator: signatures, no deduplication, lookup by idempotency key, PUT/DELETE."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.sandbox.app import build_app
from services.sandbox.frame import sandbox
from services.sandbox.webhook import receiver

pytestmark = pytest.mark.unit

SECRET = "bí-mật-của-cổng-nội-bộ"
DOC = {"title": "Thông cáo báo chí về Đại hội", "text": "Sáng nay, tại Hà Nội, Bộ Thông tin và Truyền thông…"}


def signed(
    method: str,
    target: str,
    body: bytes,
    secret: str = SECRET,
    timestamp: int | None = None,
    delivery: str = "tin-1:webhook:intranet",
) -> dict[str, str]:
    """The headers of services/webhook/README.md, computed here independently of the adapter."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    message = f"{ts}\n{method}\n{target}\n{delivery}\n".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {"X-Loa-Timestamp": ts, "X-Loa-Delivery": delivery, "X-Loa-Signature": f"sha256={digest}"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    sandbox.reset()
    with TestClient(build_app()) as c:
        c.put("/_sandbox/webhook/endpoints/intranet", json={"secret": SECRET}).raise_for_status()
        yield c
    sandbox.reset()


def post(client: TestClient, doc: object = DOC, key: str = "k1", **kw: Any) -> Any:
    body = json.dumps(doc, ensure_ascii=False).encode()
    headers = signed("POST", "/webhook/intranet", body, **kw) | {
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    return client.post("/webhook/intranet", content=body, headers=headers)


def test_accepts_a_signed_delivery_and_records_it(client: TestClient) -> None:
    answer = post(client)
    assert answer.status_code == 201
    delivery = answer.json()
    assert delivery["payload"] == DOC
    assert delivery["status"] == "live"
    assert delivery["url"].endswith(f"/webhook/intranet/deliveries/{delivery['id']}")
    [record] = client.get("/_sandbox/records", params={"platform": "webhook"}).json()
    assert record["data"]["payload"]["title"] == DOC["title"]
    assert "Thông cáo báo chí về Đại hội" in client.get("/").text


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"secret": "sai-bí-mật"}, "invalid_signature"),
        ({"timestamp": int(time.time()) - 301}, "stale_timestamp"),
    ],
)
def test_refuses_wrong_secret_and_stale_timestamp(
    client: TestClient, kwargs: dict[str, Any], error: str
) -> None:
    answer = post(client, **kwargs)
    assert answer.status_code == 401
    assert answer.json()["error"] == error
    assert client.get("/_sandbox/records").json() == []


def test_refuses_unsigned_unknown_endpoint_and_bad_json(client: TestClient) -> None:
    assert client.post("/webhook/intranet", content=b"{}").json()["error"] == "missing_signature"
    assert (
        client.post(
            "/webhook/nowhere", content=b"{}", headers=signed("POST", "/webhook/nowhere", b"{}")
        ).status_code
        == 404
    )
    bad = client.post(
        "/webhook/intranet", content=b"{oops", headers=signed("POST", "/webhook/intranet", b"{oops")
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_json"


def test_counts_every_accepted_request_without_deduplicating(client: TestClient) -> None:
    ids = {post(client, key="same").json()["id"] for _ in range(3)}
    post(client, key="other")
    assert len(ids) == 3
    assert client.get("/_sandbox/webhook/accepted").json() == {"same": 3, "other": 1}
    path = "/webhook/intranet/deliveries?idempotency_key=same"
    found = client.get(path, headers=signed("GET", path, b"")).json()["data"]
    assert {d["id"] for d in found} == ids
    never = "/webhook/intranet/deliveries?idempotency_key=never"
    none = client.get(never, headers=signed("GET", never, b""))
    assert none.json()["data"] == []
    assert client.get(path, headers=signed("GET", path, b"", secret="sai")).status_code == 401


def test_update_then_delete(client: TestClient) -> None:
    delivery_id = post(client).json()["id"]
    path = f"/webhook/intranet/deliveries/{delivery_id}"
    new = json.dumps({"title": "Đính chính: Thông cáo báo chí"}, ensure_ascii=False).encode()
    updated = client.put(path, content=new, headers=signed("PUT", path, new))
    assert updated.status_code == 200
    assert updated.json()["payload"]["title"].startswith("Đính chính")
    assert "Đính chính" in client.get("/").text
    assert client.delete(path, headers=signed("DELETE", path, b"")).status_code == 204
    assert client.delete(path, headers=signed("DELETE", path, b"")).status_code == 410
    assert client.put(path, content=new, headers=signed("PUT", path, new)).status_code == 410
    assert client.get(path, headers=signed("GET", path, b"")).status_code == 410
    assert "Đính chính" not in client.get("/").text
    kinds = [r["kind"] for r in client.get("/_sandbox/records").json()]
    assert kinds == ["delivery", "update", "retract"]


def test_a_signed_request_replayed_as_another_method_path_or_delivery_is_refused(client: TestClient) -> None:
    first, second = (post(client, key=k).json()["id"] for k in ("k1", "k2"))
    path = f"/webhook/intranet/deliveries/{first}"
    new = json.dumps({"title": "Đính chính"}, ensure_ascii=False).encode()
    captured = signed("PUT", path, new)
    other = f"/webhook/intranet/deliveries/{second}"
    assert client.put(other, content=new, headers=captured).json()["error"] == "invalid_signature"
    assert client.delete(path, headers=signed("PUT", path, b"")).json()["error"] == "invalid_signature"
    forged = captured | {"X-Loa-Delivery": "tin-2:webhook:intranet"}
    assert client.put(path, content=new, headers=forged).json()["error"] == "invalid_signature"
    assert client.put(path, content=new, headers=captured).status_code == 200


def test_secret_rotation_and_env_secrets(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client.put("/_sandbox/webhook/endpoints/intranet", json={"secret": "mới"}).raise_for_status()
    assert post(client).status_code == 401
    assert post(client, secret="mới").status_code == 201
    monkeypatch.setenv("LOA_SANDBOX_WEBHOOK_SECRETS", json.dumps({"intranet": SECRET}))
    client.post("/_sandbox/reset").raise_for_status()
    assert receiver.secrets == {"intranet": SECRET}
    assert post(client).status_code == 201


def test_faults_answer_before_the_receiver(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"platform": "webhook", "preset": "rate_limit", "reset_after_s": 5})
    limited = post(client)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "5"
    assert client.get("/_sandbox/webhook/accepted").json() == {}
    assert post(client).status_code == 201
    assert client.get("/_sandbox/stats").json()["webhook"]["requests"] == 2
