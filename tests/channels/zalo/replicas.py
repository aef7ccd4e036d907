"""Zalo publisher processes (``python -m services.zalo``) sharing one job store, for token tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from loa.channels.credentials import fingerprint
from loa.events import Content, ContentApproved, Target, topics
from loa.kafka_security import client_security
from loa.publisher.accounts import AccountStore, load_cipher
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import jobs
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT
from services.zalo.settings import ZaloSettings
from services.zalo.tokens import REFRESH_TOKEN_LIFETIME

ACCOUNT = "bo-tttt"
SUMMARY = "Văn phòng Bộ thông báo lịch tiếp công dân định kỳ tại trụ sở Đà Nẵng; người dân đăng ký trước."


def register_oa(sandbox_url: str, app_id: str) -> dict[str, str]:
    """The OA as after a person authorised it: app id, secret, a fresh pair and its expiries."""
    app = {"app_id": app_id, "secret_key": f"secret-{app_id}", "oa_id": f"oa-{app_id}"}
    pair = httpx.post(f"{sandbox_url}/zalo/_apps", json=app).json()
    now = datetime.now(UTC)
    return {
        "app_id": app_id,
        "secret_key": app["secret_key"],
        "access_token": pair["access_token"],
        "refresh_token": pair["refresh_token"],
        "access_expires_at": (now + timedelta(seconds=int(pair["expires_in"]))).isoformat(),
        "refresh_expires_at": (now + REFRESH_TOKEN_LIFETIME).isoformat(),
        "refresh_fingerprint": fingerprint(pair["refresh_token"]),
    }


class Store:
    """The job store the replicas share, read (and its account written) from the test."""

    def __init__(self, settings: ZaloSettings) -> None:
        self.engine = make_engine(settings.job_store_url("zalo"))
        self.jobs = JobStore(self.engine, "zalo")
        self.accounts = AccountStore(self.engine, "zalo", load_cipher(settings))

    async def seed(self, credentials: dict[str, str]) -> None:
        await migrate(self.engine)
        await self.accounts.add(ACCOUNT, credentials, {})

    async def states(self) -> dict[str, tuple[str, str | None]]:
        """content id → (state, error JSON)."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(jobs.c.content_id, jobs.c.state, jobs.c.error))).all()
        return {r.content_id: (r.state, r.error) for r in rows}

    async def credentials(self) -> dict[str, str]:
        found = await self.accounts.get(ACCOUNT)
        assert found is not None
        return {k: v.reveal() for k, v in found[0].credentials.items()}

    async def close(self) -> None:
        await self.engine.dispose()


def content(cid: str, title: str, publish_at: datetime | None = None) -> Content:
    return Content(
        id=cid,
        version=1,
        title=title,
        summary=SUMMARY,
        body="<p>Đường dây nóng: 1900 1234. Địa điểm: số 1 Lê Duẩn, Đà Nẵng.</p>",
        unit="Văn phòng Bộ",
        approved_by="Nguyễn Thị Đào",
        approved_at=datetime.now(UTC),
        targets=[Target(channel="zalo", account=ACCOUNT)],
        publish_at=publish_at,
    )


async def send(settings: ZaloSettings, contents: list[Content]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, **client_security(settings), acks="all"
    )
    await producer.start()
    try:
        sent = [
            await producer.send(
                settings.topic(topics.CONTENT),
                value=ContentApproved(payload=c).model_dump_json().encode(),
                key=c.id.encode(),
            )
            for c in contents
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def spawn(settings: ZaloSettings, sandbox_url: str, replica: str, log: Path) -> subprocess.Popen[bytes]:
    """The real service, ``python -m services.zalo``, configured through its environment."""
    env = {
        **os.environ,
        "PYTHONPATH": CHECKOUT_PYTHONPATH,
        "LOA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "LOA_TOPIC_PREFIX": settings.topic_prefix,
        "LOA_PUBLISHER_DATABASE_URL": settings.job_store_url("zalo"),
        "LOA_CREDENTIALS_KEY": settings.credentials_key.get_secret_value(),
        "LOA_PUBLISHER_PORT": "0",
        "LOA_PUBLISHER_REPLICA_ID": replica,
        "LOA_PUBLISHER_POLL_SECONDS": "0.05",
        "LOA_PUBLISHER_LEASE_SECONDS": "10",
        "LOA_PUBLISHER_BACKOFF_BASE_SECONDS": "0.05",
        "LOA_PUBLISHER_BACKOFF_CAP_SECONDS": "0.5",
        "LOA_PUBLISHER_CONCURRENCY": "32",
        "LOA_ZALO_OPENAPI_URL": f"{sandbox_url}/zalo/openapi",
        "LOA_ZALO_OAUTH_URL": f"{sandbox_url}/zalo/oauth",
        "LOA_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.zalo"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
