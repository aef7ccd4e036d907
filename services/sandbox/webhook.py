"""Emulator of a Loa webhook receiver (an intranet portal, a chat bot): the webhook channel's platform.

The protocol (see ``services/webhook/README.md``): every request carries ``X-Loa-Timestamp``
(Unix seconds), ``X-Loa-Delivery`` and ``X-Loa-Signature: sha256=<hex HMAC-SHA256>`` under the
endpoint's secret, over ``"<timestamp>\n<METHOD>\n<path?query>\n<X-Loa-Delivery>\n" + body``;
requests older than 5 minutes are refused (Stripe's replay tolerance).

- ``POST /webhook/{endpoint}``: accept a delivery. Every accepted request is recorded and counted,
  never deduplicated: the publisher runtime's exactly-once proof rests on it, not on us.
- ``GET /webhook/{endpoint}/deliveries?idempotency_key=K``: the deliveries received with that key.
- ``GET|PUT|DELETE /webhook/{endpoint}/deliveries/{id}``: read, replace, retract one delivery.
Secrets come from ``LOA_SANDBOX_WEBHOOK_SECRETS`` (JSON ``{"endpoint": "secret"}``) or the control
call ``PUT /_sandbox/webhook/endpoints/{endpoint}``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.sandbox.frame import Answer, Record, sandbox

PLATFORM = "webhook"
TOLERANCE_S = 300
MAX_BODY_BYTES = 1024 * 1024

router = APIRouter(tags=["webhook receiver"])


@dataclass
class Delivery:
    id: str
    endpoint: str
    idempotency_key: str | None
    received_at: str
    payload: Any
    record_id: int
    updated_at: str | None = None
    deleted_at: str | None = None

    @property
    def status(self) -> str:
        return "deleted" if self.deleted_at else "live"

    def public(self, base_url: str) -> dict[str, Any]:
        out = asdict(self)
        out.pop("record_id")
        out["status"] = self.status
        out["url"] = f"{base_url}webhook/{self.endpoint}/deliveries/{self.id}"
        return out


class Receiver:
    """Endpoints with their secrets and what each received."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.secrets: dict[str, str] = json.loads(os.environ.get("LOA_SANDBOX_WEBHOOK_SECRETS", "{}"))
        self.deliveries: dict[str, Delivery] = {}
        self.by_key: dict[tuple[str, str], list[str]] = {}
        self.accepted: Counter[str] = Counter()
        """Accepted POSTs per idempotency key, duplicates included."""
        self._ids = itertools.count(1)

    def accept(self, endpoint: str, key: str | None, payload: Any) -> Delivery:
        delivery_id = f"wh{next(self._ids):06d}"
        record = sandbox.record(
            PLATFORM, "delivery", {"delivery_id": delivery_id, "endpoint": endpoint, "idempotency_key": key}
        )
        delivery = Delivery(delivery_id, endpoint, key, record.at, payload, record.id)
        record.data["payload"] = payload
        self.deliveries[delivery_id] = delivery
        if key is not None:
            self.by_key.setdefault((endpoint, key), []).append(delivery_id)
            self.accepted[key] += 1
        return delivery

    def live_record(self, record: Record) -> bool:
        delivery = self.deliveries.get(record.data.get("delivery_id", ""))
        return delivery is not None and delivery.deleted_at is None


receiver = Receiver()
sandbox.on_reset(receiver.reset)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def _verified(request: Request, endpoint: str) -> bytes:
    """The request body if its signature holds under the endpoint's secret, else ``Answer``."""
    secret = receiver.secrets.get(endpoint)
    if secret is None:
        raise Answer(_error(404, "unknown_endpoint", f"no webhook endpoint {endpoint!r}"))
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Answer(_error(413, "payload_too_large", f"body is {len(body)} bytes, at most {MAX_BODY_BYTES}"))
    timestamp = request.headers.get("X-Loa-Timestamp", "")
    signature = request.headers.get("X-Loa-Signature", "")
    if not timestamp.isdigit() or not signature.startswith("sha256="):
        raise Answer(
            _error(401, "missing_signature", "X-Loa-Timestamp and X-Loa-Signature: sha256=<hex> required")
        )
    # The publisher signs with its wall clock, which tests do not move: compare with ours, not sandbox.now().
    if abs(time.time() - int(timestamp)) > TOLERANCE_S:
        raise Answer(_error(401, "stale_timestamp", f"timestamp is more than {TOLERANCE_S} s away from now"))
    target = request.scope["raw_path"] + (
        b"?" + request.scope["query_string"] if request.scope["query_string"] else b""
    )
    delivery = request.headers.get("X-Loa-Delivery", "").encode()
    message = b"\n".join((timestamp.encode(), request.method.encode(), target, delivery)) + b"\n" + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.removeprefix("sha256=")):
        raise Answer(_error(401, "invalid_signature", "signature does not match the endpoint's secret"))
    return body


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as e:
        raise ValueError(f"body is not JSON: {e}") from e


@router.post("/webhook/{endpoint}")
async def receive(endpoint: str, request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    body = await _verified(request, endpoint)
    try:
        payload = _json(body)
    except ValueError as e:
        return _error(400, "invalid_json", str(e))
    delivery = receiver.accept(endpoint, request.headers.get("Idempotency-Key"), payload)
    return JSONResponse(delivery.public(str(request.base_url)), status_code=201)


@router.get("/webhook/{endpoint}/deliveries")
async def find(endpoint: str, request: Request, idempotency_key: str | None = None) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    await _verified(request, endpoint)
    if idempotency_key is None:
        found = [d for d in receiver.deliveries.values() if d.endpoint == endpoint]
    else:
        found = [receiver.deliveries[i] for i in receiver.by_key.get((endpoint, idempotency_key), [])]
    return JSONResponse({"data": [d.public(str(request.base_url)) for d in found]})


async def _one(endpoint: str, delivery_id: str, request: Request) -> Delivery:
    await sandbox.enter(PLATFORM, request.url.path)
    verified = await _verified(request, endpoint)
    delivery = receiver.deliveries.get(delivery_id)
    if delivery is None or delivery.endpoint != endpoint:
        raise Answer(_error(404, "not_found", f"no delivery {delivery_id!r} at {endpoint!r}"))
    if delivery.deleted_at is not None:
        raise Answer(_error(410, "gone", f"delivery {delivery_id!r} was deleted at {delivery.deleted_at}"))
    request.state.body = verified
    return delivery


@router.get("/webhook/{endpoint}/deliveries/{delivery_id}")
async def read(endpoint: str, delivery_id: str, request: Request) -> Response:
    delivery = await _one(endpoint, delivery_id, request)
    return JSONResponse(delivery.public(str(request.base_url)))


@router.put("/webhook/{endpoint}/deliveries/{delivery_id}")
async def replace(endpoint: str, delivery_id: str, request: Request) -> Response:
    delivery = await _one(endpoint, delivery_id, request)
    try:
        payload = _json(request.state.body)
    except ValueError as e:
        return _error(400, "invalid_json", str(e))
    record = sandbox.record(PLATFORM, "update", {"delivery_id": delivery_id, "payload": payload})
    delivery.payload = payload
    delivery.updated_at = record.at
    for original in sandbox.list(PLATFORM, "delivery"):
        if original.id == delivery.record_id:
            original.data["payload"] = payload  # the reader page shows the post as it is now
    return JSONResponse(delivery.public(str(request.base_url)))


@router.delete("/webhook/{endpoint}/deliveries/{delivery_id}")
async def delete(endpoint: str, delivery_id: str, request: Request) -> Response:
    delivery = await _one(endpoint, delivery_id, request)
    delivery.deleted_at = sandbox.record(PLATFORM, "retract", {"delivery_id": delivery_id}).at
    return Response(status_code=204)


class EndpointIn(BaseModel):
    secret: str = Field(min_length=1)


@router.put("/_sandbox/webhook/endpoints/{endpoint}", tags=["sandbox control"])
def configure_endpoint(endpoint: str, config: EndpointIn) -> dict[str, str]:
    """Create an endpoint or rotate its secret (the old one stops working at once)."""
    receiver.secrets[endpoint] = config.secret
    return {"endpoint": endpoint, "status": "configured"}


@router.get("/_sandbox/webhook/live", tags=["sandbox control"])
def live(endpoint: str | None = None) -> list[dict[str, Any]]:
    """The deliveries a reader still sees (not deleted), with their current payload."""
    return [
        {"id": d.id, "endpoint": d.endpoint, "idempotency_key": d.idempotency_key, "payload": d.payload}
        for d in receiver.deliveries.values()
        if d.deleted_at is None and endpoint in (None, d.endpoint)
    ]


@router.get("/_sandbox/webhook/accepted", tags=["sandbox control"])
def accepted() -> dict[str, int]:
    """Accepted POSTs per idempotency key, duplicates included (the exactly-once check reads this)."""
    return dict(receiver.accepted)


sandbox.register_card(
    PLATFORM,
    """<h3>{{ data.payload.title }}</h3>
{% if data.payload.summary %}<p><em>{{ data.payload.summary }}</em></p>{% endif %}
<p style="white-space: pre-wrap">{{ data.payload.text }}</p>
{% if data.payload.url %}
<p><a href="{{ data.payload.url | http_url }}">{{ data.payload.url }}</a></p>
{% endif %}
{% for m in data.payload.media or [] %}<p class="meta">{{ m.content_type }} · {{ m.alt }}</p>{% endfor %}
<p class="meta">endpoint {{ data.endpoint }} · {{ data.delivery_id }} · key {{ data.idempotency_key }}</p>""",
    kinds={"delivery"},
    visible=receiver.live_record,
)
