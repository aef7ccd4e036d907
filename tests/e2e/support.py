"""End-to-end plumbing: a channel's real publisher on real Kafka + MinIO, its delivery topic watched.

``ChannelRun`` starts one channel's ``Publisher`` in this process (unique topic prefix, its own
SQLite job store under the test's tmp_path, accounts seeded through its ``AccountStore``), produces
content events on ``settings.topic(loa.content.v1)`` and reads ``loa.delivery.v1`` from the start.
The platform side is the sandbox app, served in this process by the fixtures of ``conftest.py``.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.fernet import Fernet
from PIL import Image
from pydantic import SecretStr

from loa.channels import ChannelAdapter
from loa.events import (
    Content,
    ContentApproved,
    ContentRetracted,
    ContentUpdated,
    DeliveryState,
    MediaRef,
    Retraction,
    Target,
    topics,
    utcnow,
)
from loa.kafka_security import client_security
from loa.media import MediaStore
from loa.publisher.main import Publisher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import migrate
from loa.settings import CHECKOUT_PYTHONPATH, LoaSettings
from services.tiktok.adapter import TikTokAdapter
from services.tiktok.chunks import CHUNK_MIN
from services.tiktok.settings import TikTokSettings
from services.youtube.adapter import YouTubeAdapter
from services.youtube.settings import YouTubeSettings
from tests.channels.tiktok.support import register_creator
from tests.channels.youtube.support import TlsSandbox
from tests.integration.publisher.publisher_helpers import Watcher, send_content
from tests.support.kafka import FETCH_WAIT_MS

S = DeliveryState
PUBLISHED_PATH = [S.SCHEDULED, S.PUBLISHING, S.PUBLISHED]  # created scheduled: no `received` event

TITLE = "Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp: người dân làm thủ tục ở đâu cũng được"
SUMMARY = (
    "Sáng 26/11, UBND thành phố Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp tại "
    "số 258 đường Võ Chí Công. Người dân, doanh nghiệp được giải quyết hồ sơ không phụ thuộc địa giới "
    "hành chính; Đồng chí Chủ tịch UBND thành phố nhấn mạnh: “Lấy sự hài lòng của người dân làm thước đo.”"
)
BODY = (
    "<p>Trung tâm tiếp nhận <strong>1.864 thủ tục hành chính</strong> thuộc thẩm quyền của thành phố, "
    "quận, huyện và xã, phường.</p>"
    "<p>Đường dây nóng hỗ trợ: 1900 1234. Ý kiến phản ánh gửi về Văn phòng UBND thành phố.</p>"
)
TAGS = ["Hành chính công", "Chuyển đổi số", "Hà Nội", "Đô thị"]


def jpeg(width: int = 640, height: int = 360, color: tuple[int, int, int] = (200, 30, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=85)
    return out.getvalue()


def put_media(store: MediaStore, data: bytes, content_type: str, alt: str = "") -> MediaRef:
    stored = store.put_stream(io.BytesIO(data), content_type, len(data))
    return MediaRef(
        key=stored.key, sha256=stored.sha256, content_type=content_type, size=stored.size, alt=alt
    )


def small_video(size: int = 300 * 1024) -> bytes:
    """Bytes that stand for a short MP4 (the emulators check sizes and hashes, not codecs)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + bytes((i * 7 + i // 251) % 256 for i in range(size - len(head)))


def article(
    channel: str,
    account: str,
    media: list[MediaRef],
    *,
    cid: str | None = None,
    version: int = 1,
    publish_at: datetime | None = None,
    target_options: Mapping[str, Any] | None = None,
    **over: Any,
) -> Content:
    """The Vietnamese sample article for one target."""
    fields: dict[str, Any] = {
        "id": cid or f"hcc-ha-noi-{uuid.uuid4().hex[:8]}",
        "version": version,
        "title": TITLE,
        "summary": SUMMARY,
        "body": BODY,
        "tags": TAGS,
        "unit": "Văn phòng UBND thành phố",
        "approved_by": "Nguyễn Thị Đào",
        "approved_at": utcnow(),
        "media": media,
        "targets": [Target(channel=channel, account=account, options=dict(target_options or {}))],
        "publish_at": publish_at,
    } | over
    return Content(**fields)


def approved(c: Content) -> ContentApproved:
    return ContentApproved(payload=c)


def updated(c: Content) -> ContentUpdated:
    return ContentUpdated(payload=c)


def retracted(cid: str) -> ContentRetracted:
    return ContentRetracted(
        payload=Retraction(id=cid, reason="Sai địa chỉ trụ sở", requested_by="Trần Văn Đức")
    )


def fast_settings(base: LoaSettings, settings_cls: type[PublisherSettings], tmp: Path, **over: Any) -> Any:
    """A channel's settings on this test's topics, with its own job store and short timers."""
    values: dict[str, Any] = base.model_dump() | {
        "publisher_database_url": f"sqlite+aiosqlite:///{tmp / 'jobs.db'}",
        "credentials_key": Fernet.generate_key().decode(),
        "publisher_port": 0,
        "publisher_poll_seconds": 0.05,
        # the lingers trade up to 100 ms per content and per status for fewer rounds under load; a
        # test waits on each state in turn (test_intake_linger.py sets its own; bench/webhook_alone.py)
        "publisher_intake_linger_ms": 0,
        "publisher_relay_linger_ms": 0,
        "publisher_fetch_wait_ms": FETCH_WAIT_MS,
        "publisher_backoff_base_seconds": 0.1,
        "publisher_backoff_cap_seconds": 1.0,
        "publisher_confirm_interval_seconds": 0.5,
        "publisher_shutdown_grace_seconds": 5,
        "publisher_replica_id": f"e2e-{uuid.uuid4().hex[:6]}",
    }
    return settings_cls(**(values | over))


def environment(settings: PublisherSettings) -> dict[str, str]:
    """The settings as the ``LOA_*`` variables a publisher process (``python -m services.<channel>``)
    reads."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    for name, value in settings:
        if value is None:
            continue
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        env[f"LOA_{name.upper()}"] = str(plain)
    env["PYTHONPATH"] = CHECKOUT_PYTHONPATH
    env["LOA_LOG_LEVEL"] = "WARNING"
    return env


async def create_topics(settings: LoaSettings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
    await admin.start()
    try:
        names = [topics.CONTENT, topics.DELIVERY, topics.PAYLOAD, topics.COMMANDS, topics.dlq(topics.CONTENT)]
        await admin.create_topics(
            [NewTopic(settings.topic(n), num_partitions=1, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


@dataclass
class ChannelRun:
    """One channel's publisher and a watcher of its delivery topic; ``await run.stop()`` ends both."""

    adapter_cls: type[ChannelAdapter]
    settings: PublisherSettings
    accounts: dict[str, tuple[dict[str, str], dict[str, Any]]] = field(default_factory=dict)
    publisher: Publisher | None = None
    watcher: Watcher | None = None

    async def start(self) -> ChannelRun:
        await create_topics(self.settings)
        self.watcher = await Watcher(self.settings).start()
        publisher = Publisher(self.adapter_cls, self.settings)
        await migrate(publisher.engine)
        for name, (credentials, options) in self.accounts.items():
            await publisher.accounts.add(name, credentials, options)
        await publisher.start()
        self.publisher = publisher
        return self

    async def stop(self) -> None:
        if self.publisher is not None:
            await self.publisher.stop()
        if self.watcher is not None:
            await self.watcher.stop()

    @property
    def channel(self) -> str:
        return self.adapter_cls.name

    def did(self, cid: str, account: str) -> str:
        return f"{cid}:{self.channel}:{account}"

    async def send(self, *events: ContentApproved | ContentUpdated | ContentRetracted) -> None:
        await send_content(self.settings, *events)

    async def approve(self, *contents: Content) -> None:
        """``content.approved`` of each, in this order, as a content system produces them."""
        await self.send(*(approved(c) for c in contents))

    async def update(self, content: Content) -> None:
        await self.send(updated(content))

    async def retract(self, cid: str) -> None:
        await self.send(retracted(cid))

    async def until_state(self, cid: str, account: str, state: DeliveryState, timeout: float = 30.0) -> Any:  # noqa: ASYNC109
        assert self.watcher is not None
        try:
            return await self.watcher.until_state(self.did(cid, account), state, timeout)
        except AssertionError as e:  # say what was seen by the end, not at the start
            raise AssertionError(f"{e}; states now: {self.states(cid, account)}") from None

    async def until_path(
        self,
        cid: str,
        account: str,
        path: Sequence[DeliveryState],
        *,
        after: int = 0,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Any:
        """Until the delivery went through ``path`` after its event numbered ``after`` and rests
        at the path's last state (``publisher_helpers.went_through``): e.g. handed to the platform
        and natively scheduled, ``[S.PUBLISHING, S.SCHEDULED]``."""
        assert self.watcher is not None
        try:
            return await self.watcher.until_path(self.did(cid, account), path, after=after, timeout=timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}; states now: {self.states(cid, account)}") from None

    async def until_version(
        self,
        cid: str,
        account: str,
        version: int,
        state: DeliveryState,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Any:
        """Wait until the delivery's last event is ``state`` for ``version``."""
        assert self.watcher is not None
        did = self.did(cid, account)

        def reached() -> bool:
            last = self.watcher.last(did) if self.watcher else None
            return last is not None and last.version == version and last.state is state

        try:
            await self.watcher.until(reached, timeout, what=f"{did} v{version} → {state}")
        except AssertionError as e:
            raise AssertionError(f"{e}; events now: {self.events(cid, account)}") from None
        return self.watcher.last(did)

    def states(self, cid: str, account: str) -> list[DeliveryState]:
        assert self.watcher is not None
        return self.watcher.states(self.did(cid, account))

    def events(self, cid: str, account: str) -> list[Any]:
        assert self.watcher is not None
        return sorted(self.watcher.history[self.did(cid, account)], key=lambda d: d.sequence)

    async def update_credentials(self, account: str, credentials: dict[str, str]) -> None:
        assert self.publisher is not None
        await self.publisher.accounts.update(account, credentials=credentials)


def youtube_run(base: LoaSettings, tmp: Path, tls: TlsSandbox, account: str) -> ChannelRun:
    """The YouTube publisher (not started) on the sandbox over TLS (the SDK keeps https for uploads),
    with ``account`` signed in by a refresh token the emulator takes."""
    settings = fast_settings(
        base,
        YouTubeSettings,
        tmp,
        youtube_api_url=tls.url,
        youtube_token_url=f"{tls.url}/token",
        youtube_ca_certs=tls.tls.ca_pem,
        youtube_chunk_size=256 * 1024,
    )
    credentials = {
        "client_id": "loa-e2e.apps.googleusercontent.com",
        "client_secret": "GOCSPX-khong-in-ra",
        "refresh_token": f"1//refresh-{account}",
    }
    return ChannelRun(YouTubeAdapter, settings, {account: (credentials, {})})


def tiktok_run(base: LoaSettings, tmp: Path, sandbox_url: str, account: str) -> ChannelRun:
    """The TikTok publisher (not started), ``account`` a creator who authorised the app in the
    emulator; chunks of TikTok's smallest size, its status polled every 50 ms."""
    creator = register_creator(sandbox_url)
    credentials = {k: creator.secret(k) for k in creator.credentials}
    settings = fast_settings(
        base,
        TikTokSettings,
        tmp,
        tiktok_api_url=f"{sandbox_url}/tiktok",
        tiktok_chunk_bytes=CHUNK_MIN,
        tiktok_status_interval_s=0.05,
    )
    return ChannelRun(TikTokAdapter, settings, {account: (credentials, {})})


StartRun = Callable[[ChannelRun], Awaitable[ChannelRun]]
"""The ``start_run`` fixture (conftest.py): ``await start_run(ChannelRun(...))``, stopped after the test."""

WEBHOOK_ACCOUNT = "cong-noi-bo"


class WebhookRun(NamedTuple):
    """The ``webhook_run`` fixture: the webhook channel's run and the sandbox receiver it posts to."""

    run: ChannelRun
    endpoint: str
    """``sandbox.webhook_live(endpoint)``: what the receiver holds now."""


def later(hours: float) -> datetime:
    return utcnow() + timedelta(hours=hours)
