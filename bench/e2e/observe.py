"""What the bench reads off the running stack: the tracker's deliveries (its REST API) and the lag
every Loa service reports on ``/metrics`` (the tracker's per topic, each publisher's intake).

Approval time = the content's ``approved_at`` as the tracker stored it; published time = the
tracker's ``published_at`` (the ``occurred_at`` of the delivery's first ``published`` status event,
stamped by the publisher runtime in the transaction that records the state).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.e2e.stack import TRACKER
from loa.events import FINAL_STATES, DeliveryState

ENDED = sorted({*FINAL_STATES, DeliveryState.NEEDS_ATTENTION})
"""A delivery no longer being worked on: the phase's 'done' count."""
PAGE = 500  # the API's largest page
TRACKER_LAG = "loa_tracker_consumer_lag"
PUBLISHER_LAG = "loa_publisher_consumer_lag"
CALIBRATION_SAMPLES, CALIBRATION_IDLE_S = 100, 5.0
"""What ``sample_cost`` reads: samples in a row, between two idle windows of as long."""


@dataclass(frozen=True)
class Delivery:
    content_id: str
    channel: str
    state: str
    approved_at: datetime | None
    published_at: datetime | None
    external_id: str | None
    error: str | None

    @property
    def latency_s(self) -> float | None:
        if self.approved_at is None or self.published_at is None:
            return None
        return (self.published_at - self.approved_at).total_seconds()


def delivery_of(item: dict[str, Any]) -> Delivery:
    """One delivery as the tracker's API lists it."""

    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(item[key]) if item.get(key) else None

    error = item.get("last_error") or {}
    return Delivery(
        content_id=item["content_id"],
        channel=item["channel"],
        state=item["state"],
        approved_at=when("approved_at"),
        published_at=when("published_at"),
        external_id=item.get("external_id"),
        error=error.get("message") or (item["state"] if item["state"] != "published" else None),
    )


def _gauges(text: str, name: str, label: str | None) -> dict[str, float]:
    """``{label value: sample}`` of gauge ``name`` (label None: ``{"": sample}``)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == name:
            for sample in family.samples:
                out[sample.labels.get(label, "") if label else ""] = sample.value
    return out


@dataclass
class TrackerClient:
    """The tracker's API as a viewer, and every service's ``/metrics``."""

    url: str
    token: str
    metrics_urls: dict[str, str]  # service name → its /metrics
    http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _page(self, params: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.get("/api/v1/deliveries", params=params)
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body

    async def ended(self, since: datetime) -> int:
        """Deliveries of contents approved since ``since`` that ended, as the tracker has them."""
        body = await self._page(
            {"approved_since": since.isoformat(), "state": [str(s) for s in ENDED], "page_size": 1}
        )
        return int(body["total"])

    async def deliveries(self, since: datetime, until: datetime) -> list[Delivery]:
        """Every delivery of the contents approved in [since, until), page by page."""
        window = {"approved_since": since.isoformat(), "approved_until": until.isoformat()}
        found: dict[tuple[str, str], Delivery] = {}
        page, total = 1, None
        while total is None or (page - 1) * PAGE < total:
            body = await self._page({**window, "page": page, "page_size": PAGE})
            total = body["total"]
            for item in body["items"]:
                d = delivery_of(item)
                found[(d.content_id, d.channel)] = d
            page += 1
        return list(found.values())

    async def lags(self) -> dict[str, Any]:
        """``{"tracker": {topic: n}, "publishers": {channel: n}}``; a service not answering is left out."""

        async def one(name: str, url: str) -> tuple[str, str | None]:
            try:
                return name, (await self.http.get(url, timeout=5)).text
            except httpx.HTTPError:
                return name, None

        texts = await asyncio.gather(*(one(n, u) for n, u in self.metrics_urls.items()))
        out: dict[str, Any] = {"tracker": {}, "publishers": {}}
        for name, text in texts:
            if text is None:
                continue
            if name == TRACKER:
                out["tracker"] = {k: int(v) for k, v in _gauges(text, TRACKER_LAG, "topic").items()}
            else:
                got = _gauges(text, PUBLISHER_LAG, None)
                if got:
                    out["publishers"][name] = int(got[""])
        return out


@dataclass
class PhaseWatch:
    """Samples, every second while a phase runs: deliveries sent, ended (per the tracker), and lags."""

    client: TrackerClient
    since: datetime
    ids: list[str]  # grows as contents are sent
    deliveries_of: Callable[[int], int]
    """Deliveries of the first n contents sent (``Shares.deliveries``)."""
    samples: list[dict[str, Any]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _started: float = field(default_factory=time.monotonic)
    """What a sample's ``t`` counts from: the watch's making, or its ``start``."""

    def start(self) -> PhaseWatch:
        self._started = time.monotonic()
        self._task = asyncio.create_task(self._loop())
        return self

    async def sample(self) -> dict[str, Any]:
        ended, lags = await asyncio.gather(self.client.ended(self.since), self.client.lags())
        s = {
            "t": round(time.monotonic() - self._started, 2),
            "sent": self.deliveries_of(len(self.ids)),
            "ended": ended,
            "tracker_lag": lags["tracker"],
            "publisher_lag": lags["publishers"],
        }
        self.samples.append(s)
        return s

    async def _loop(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def sample_cost(
    client: TrackerClient, since: datetime, cpu_now: Callable[[], dict[str, float]]
) -> dict[str, float]:
    """CPU seconds one ``PhaseWatch`` sample costs each process, measured right after a phase (the
    same window and rows, the stack otherwise idle): ``CALIBRATION_SAMPLES`` samples in a row, less
    each process's idle CPU over as long (its rate over ``CALIBRATION_IDLE_S`` before and after).

    The bench's watching (``ended`` over the tracker's API and every ``/metrics``, each second) is
    not the work it measures: ``bench.e2e.fair`` gives the tracker's CPU with and without it."""

    async def idle() -> dict[str, float]:
        before, started = cpu_now(), time.monotonic()
        await asyncio.sleep(CALIBRATION_IDLE_S)
        after = cpu_now()
        return {name: (after[name] - before[name]) / (time.monotonic() - started) for name in after}

    watch = PhaseWatch(client, since, [], lambda _: 0)
    idle_before = await idle()
    before, started = cpu_now(), time.monotonic()
    for _ in range(CALIBRATION_SAMPLES):
        await watch.sample()
    after, busy_s = cpu_now(), time.monotonic() - started
    idle_after = await idle()
    return {
        name: max(0.0, after[name] - before[name] - (idle_before[name] + idle_after[name]) / 2 * busy_s)
        / CALIBRATION_SAMPLES
        for name in after
    }
