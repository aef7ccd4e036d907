"""The bench's reference publisher makes the webhook adapter's request (issue #20 item 1): same
method, URL, protocol headers, body bytes (presigned media links included) and a signature the
receiver's rule accepts; only the transport's own headers differ (http.client vs httpx). Its httpx
variants (``--client httpx`` and ``httpx-threads``, the floor under the brief's fixed HTTP client)
make the same request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bench.reference.publisher import ReferencePublisher
from bench.reference.request import CLIENTS, HttpxSender
from loa.channels import Account, Secret
from loa.events import Content, ContentApproved, MediaRef, Target, utcnow
from loa.media import MediaStore
from services.webhook.adapter import sign
from services.webhook.settings import WebhookSettings

pytestmark = pytest.mark.unit

SECRET = "khóa-bí-mật-Đà-Lạt"
PROTOCOL = ("Content-Type", "X-Loa-Delivery", "Idempotency-Key")


class Media:
    """Presigned links without a store: the same link for the same key and lifetime."""

    def presigned_get(self, key: str, expires: timedelta) -> str:
        return f"http://127.0.0.1:9000/media/{key}?X-Amz-Expires={int(expires.total_seconds())}"


class Receiver(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
        answer = json.dumps({"id": f"wh{len(self.seen)}", "url": "http://receiver/x"}).encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/cổng-nội-bộ"
    server.shutdown()


@pytest.mark.parametrize("client", CLIENTS)
async def test_the_reference_request_is_the_adapters(receiver: str, tmp_path: Path, client: str) -> None:
    settings = WebhookSettings()
    account = Account("webhook", "cong-noi-bo", {"secret": Secret(SECRET)}, {"url": receiver})
    image = MediaRef(key="sha256/" + "a" * 64, sha256="a" * 64, content_type="image/jpeg", size=1, alt="Ảnh")
    content = Content(
        id="dieu-chinh-gio-lam-viec",
        version=2,
        title="Đắk Lắk điều chỉnh giờ làm việc mùa đông",
        summary="Từ ngày 01/12, giờ làm việc buổi sáng bắt đầu lúc 7 giờ 30.",
        body="<p>Chi tiết tại bộ phận một cửa.</p>",
        unit="Văn phòng UBND tỉnh",
        approved_by="Nguyễn Thị Đào",
        approved_at=utcnow(),
        media=[image],
        targets=[Target(channel="webhook", account=account.name)],
    )
    media = cast(MediaStore, Media())
    reference = ReferencePublisher(
        settings, {account.name: account}, tmp_path / "r.db", "g", workers=1, media=media, client=client
    )
    record = SimpleNamespace(value=ContentApproved(payload=content).model_dump_json().encode())
    (row,) = await reference.rows([record])  # type: ignore[list-item]
    sender = reference.sender
    if isinstance(sender, HttpxSender):
        answer = await sender.publish(row)
        await sender.aclose()
    else:
        answer = sender.publish(row)

    adapter = reference.adapter  # the webhook adapter itself, on the same context
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    await adapter.aclose()
    reference.store.close()

    ours, loas = Receiver.seen
    assert (answer.state, answer.external_id) == ("published", "wh1")
    assert result.external_id == "wh2"
    assert ours["path"] == loas["path"] == "/hooks/c%E1%BB%95ng-n%E1%BB%99i-b%E1%BB%99"
    assert ours["body"] == loas["body"]
    assert json.loads(ours["body"])["media"][0]["url"].endswith("X-Amz-Expires=86400")
    for name in PROTOCOL:
        assert ours["headers"][name] == loas["headers"][name], name
    for seen in (ours, loas):  # each signed under its own timestamp, by the receiver's rule
        h = seen["headers"]
        expected = sign(SECRET, h["X-Loa-Timestamp"], "POST", seen["path"], h["X-Loa-Delivery"], seen["body"])
        assert h["X-Loa-Signature"] == expected


def test_its_progress_before_it_started_is_none(tmp_path: Path) -> None:
    # The bench reads it at a phase's start, which may come before the process made its database.
    from bench.reference.store import progress

    assert progress(tmp_path / "reference.db") == {"answered": 0, "requests": 0, "answer_batches": 0}
    assert not (tmp_path / "reference.db").exists()  # read-only: it made none
