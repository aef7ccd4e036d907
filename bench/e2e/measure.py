"""Figures of one phase, the sandbox cross-check, and process costs (psutil)."""

from __future__ import annotations

import contextlib
import re
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import psutil

from bench.e2e.load import percentile
from bench.e2e.observe import Delivery
from bench.e2e.reference import REFERENCE_ENDPOINT_PREFIX
from loa.settings import REPO_ROOT

FAILED_STATES = ("failed", "needs_attention")

# What each emulator records when it accepts a post, and the field holding the id the adapter returns.
PLATFORM_RECORDS: dict[str, list[tuple[str, str]]] = {
    "webhook": [("delivery", "delivery_id")],
    "facebook": [
        ("post", "id"),
        ("video", "post_id"),
        ("video", "id"),
    ],  # a content with a video goes as a video post
    "zalo": [("article", "id")],
    "youtube": [("video", "id")],
    "x": [("tweet", "id")],
    "tiktok": [("video", "id"), ("video", "publish_id")],  # a public post's id, else the publish_id
}


def latency_stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "max_ms": max(values) * 1000 if values else float("nan"),
    }


def phase_figures(deliveries: list[Delivery], targets: dict[str, int], channels: list[str]) -> dict[str, Any]:
    """Approval → published per channel and approval → all its channels published, for the contents
    of ``targets`` (content id → how many channels it targets), from the tracker's stored times."""
    mine = [d for d in deliveries if d.content_id in targets]
    per_channel: dict[str, list[float]] = {c: [] for c in channels}
    by_content: dict[str, list[float]] = {}
    for d in mine:
        latency = d.latency_s
        if latency is not None and d.channel in per_channel:
            per_channel[d.channel].append(latency)
            by_content.setdefault(d.content_id, []).append(latency)
    all_published = [max(v) for cid, v in by_content.items() if len(v) == targets[cid]]
    published = [d for d in mine if d.published_at is not None]
    approvals = [d.approved_at for d in mine if d.approved_at is not None]
    span = (
        (max(d.published_at for d in published if d.published_at) - min(approvals)).total_seconds()
        if published and approvals
        else float("nan")
    )
    failed = [d for d in mine if d.state in FAILED_STATES]
    return {
        "contents": len(targets),
        "deliveries": sum(targets.values()),
        "in_tracker": len(mine),
        "published": len(published),
        "failed": len(failed),
        "failures_sample": sorted({d.error or d.state for d in failed})[:5],
        "per_channel": {c: latency_stats(v) for c, v in per_channel.items()},
        "all_channels": latency_stats(all_published),
        "deliveries_per_s": len(published) / span if published and span > 0 else float("nan"),
    }


def sandbox_check(
    sandbox_url: str,
    deliveries: list[Delivery],
    channels: list[str],
    since: datetime | None = None,
    named: list[Delivery] | None = None,
) -> dict[str, Any]:
    """Match each published delivery to the record the emulator made when it accepted the post.

    ``gap`` = tracker's published time − platform receive time (≥ 0, small); ``inconsistent``: the
    platform got it before the approval, or Loa said published before the platform had it;
    ``extra_posts`` (with ``since``, the phase's start): posts the platform accepted since then that
    no delivery names — a content published twice. ``named`` (default ``deliveries``): the
    deliveries whose posts are not extra, read when this is checked; after a phase that did not
    drain, every delivery of the run, as its backlog's posts land in the phases after it.
    """
    out: dict[str, Any] = {}
    with httpx.Client(base_url=sandbox_url, timeout=120) as http:
        for channel in channels:
            received: dict[str, datetime] = {}
            record_of: dict[str, int] = {}  # a post's ids (as a delivery names it) → its record
            posts: set[int] = set()  # the records of the phase's posts, Loa's only (not the reference's)
            for kind, id_field in PLATFORM_RECORDS[channel]:
                records = http.get("/_sandbox/records", params={"platform": channel, "kind": kind}).json()
                received |= {str(r["data"].get(id_field)): datetime.fromisoformat(r["at"]) for r in records}
                record_of |= {str(r["data"].get(id_field)): r["id"] for r in records}
                posts |= {r["id"] for r in records if since is not None and _loa_post_since(r, since)}
            gaps, bad = [], 0
            for d in deliveries:
                if d.channel != channel or d.published_at is None or d.external_id is None:
                    continue
                got = received.get(d.external_id)
                if got is None:
                    continue
                gap = (d.published_at - got).total_seconds()
                gaps.append(gap)
                if gap < -0.05 or (d.approved_at is not None and got < d.approved_at):
                    bad += 1
            out[channel] = {
                "matched": len(gaps),
                "gap_p50_ms": statistics.median(gaps) * 1000 if gaps else float("nan"),
                "inconsistent": bad,
            }
            if since is not None:
                out[channel]["extra_posts"] = len(
                    second_copies(posts, record_of, channel, named or deliveries)
                )
    return out


def second_copies(
    posts: set[int], record_of: dict[str, int], channel: str, named: list[Delivery]
) -> set[int]:
    """The records among ``posts`` that no delivery of ``named`` on ``channel`` names (by the id
    the tracker recorded for it, ``record_of`` a post's ids → its record): a second copy."""
    names = {record_of.get(d.external_id or "") for d in named if d.channel == channel}
    return posts - names


def _loa_post_since(record: dict[str, Any], since: datetime) -> bool:
    """A post made at or after ``since`` by Loa: not the reference publisher's (it posts to ``ref-``
    webhooks), nor a reply (an X thread's later parts reply to its first, which the delivery names)."""
    data = record["data"]
    reference = str(data.get("endpoint", "")).startswith(REFERENCE_ENDPOINT_PREFIX)
    if reference or data.get("in_reply_to_tweet_id"):
        return False
    return datetime.fromisoformat(record["at"]) >= since


def stack_pids() -> dict[str, int]:
    """Kafka, MinIO and PostgreSQL of the shared local stack (``stack.sh status`` prints their pids)."""
    status = subprocess.run(
        ["bash", str(REPO_ROOT / "deploy/local/stack.sh"), "status"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = {}
    for name in ("kafka", "minio", "postgres"):
        match = re.search(rf"^{name}\s+\S+\s+pid\s+(\d+)", status, re.M)
        if match:
            found[name] = int(match.group(1))
    return found


@dataclass
class ProcessSampler:
    """Peak RSS and CPU seconds of named processes (and their children), sampled every second.

    Besides the run's peak, the RSS each had when sampling began (``start_rss``: the services
    started and idle, before the first phase) and the peak of each window between calls of
    ``window`` (one phase's): whether load adds to a service's memory, or its start already holds it.
    """

    pids: dict[str, int]
    peak_rss: dict[str, int] = field(default_factory=dict)
    start_rss: dict[str, int] = field(default_factory=dict)
    window_peak: dict[str, int] = field(default_factory=dict)
    cpu_start: dict[str, float] = field(default_factory=dict)
    cpu_end: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _procs(self, pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _cpu(self, pid: int) -> float:
        total = 0.0
        for p in self._procs(pid):
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            rss = 0
            for p in self._procs(pid):
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)
            self.window_peak[name] = max(self.window_peak.get(name, 0), rss)
            cpu = self._cpu(pid)
            if cpu:
                self.cpu_end[name] = cpu

    def cpu_now(self) -> dict[str, float]:
        """CPU seconds used so far by each process (and its children)."""
        return {name: self._cpu(pid) for name, pid in self.pids.items()}

    def window(self) -> dict[str, float]:
        """Peak RSS in MB of each process since the last call (or the start), sampled now too."""
        self._sample()
        peaks, self.window_peak = self.window_peak, {}
        return {name: rss / 2**20 for name, rss in peaks.items()}

    def start(self) -> ProcessSampler:
        self.cpu_start = {name: self._cpu(pid) for name, pid in self.pids.items()}
        self._sample()
        self.start_rss = dict(self.window_peak)
        threading.Thread(target=self._loop, daemon=True).start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(1.0)

    def stop(self) -> dict[str, dict[str, float]]:
        self._sample()
        self._stop.set()
        return {
            name: {
                "peak_rss_mb": self.peak_rss.get(name, 0) / 2**20,
                "start_rss_mb": self.start_rss.get(name, 0) / 2**20,
                "cpu_s": self.cpu_end.get(name, 0.0) - self.cpu_start.get(name, 0.0),
            }
            for name in self.pids
        }
