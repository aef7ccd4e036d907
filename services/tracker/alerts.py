"""Signed outbound webhooks for chosen state changes, sent from a durable outbox with backoff.

Each request carries ``X-Loa-Event-Id`` (receivers de-duplicate on it), ``X-Loa-Timestamp`` and
``X-Loa-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the hook's secret>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import utcnow
from loa.tls import client_context
from services.tracker.settings import AlertHook
from services.tracker.tables import alerts_outbox

log = logging.getLogger(__name__)
BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 3600.0
CLAIM = 50


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``<timestamp>.<body>``: what a receiver recomputes and compares."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped at an hour."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class AlertSender:
    def __init__(
        self,
        engine: AsyncEngine,
        hooks: Sequence[AlertHook],
        max_attempts: int,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.engine = engine
        self.hooks = {h.name: h for h in hooks}
        self.max_attempts = max_attempts
        self.client = client or httpx.AsyncClient(timeout=10.0, verify=client_context())

    async def send_due(self, now: datetime | None = None) -> int:
        """Send every alert that is due; returns how many were delivered."""
        now = now or utcnow()
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(alerts_outbox)
                    .where(
                        alerts_outbox.c.delivered_at.is_(None),
                        alerts_outbox.c.given_up.is_(False),
                        alerts_outbox.c.next_attempt_at <= now,
                    )
                    .order_by(alerts_outbox.c.next_attempt_at)
                    .limit(CLAIM)
                )
            ).all()
        delivered = 0
        for row in rows:
            error = await self._post(row.hook, row.event_id, row.payload.encode())
            attempts = row.attempts + 1
            values: dict[str, object]
            if error is None:
                values = {"attempts": attempts, "delivered_at": utcnow(), "last_error": None}
                delivered += 1
            else:
                values = {
                    "attempts": attempts,
                    "last_error": error[:1000],
                    "next_attempt_at": utcnow() + backoff(attempts),
                    "given_up": attempts >= self.max_attempts or row.hook not in self.hooks,
                }
                log.warning(
                    "alert %s to hook %s failed (attempt %d): %s", row.event_id, row.hook, attempts, error
                )
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(alerts_outbox).where(alerts_outbox.c.event_id == row.event_id).values(**values)
                )
        return delivered

    async def _post(self, hook_name: str, event_id: str, body: bytes) -> str | None:
        hook = self.hooks.get(hook_name)
        if hook is None:
            return f"hook {hook_name!r} is no longer configured"
        timestamp = str(int(utcnow().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Loa-Event-Id": event_id,
            "X-Loa-Timestamp": timestamp,
            "X-Loa-Signature": sign(hook.secret.get_secret_value().encode(), timestamp, body),
        }
        try:
            response = await self.client.post(str(hook.url), content=body, headers=headers)
        except httpx.HTTPError as e:
            return f"{type(e).__name__}: {e}"
        if response.is_success:
            return None
        return f"HTTP {response.status_code}"

    async def run(self, poll_s: float) -> None:
        """Send due alerts until cancelled."""
        while True:
            try:
                await self.send_due()
            except Exception:
                log.exception("alert sender round failed")
            await asyncio.sleep(poll_s)

    async def close(self) -> None:
        await self.client.aclose()
