"""Capacity model of a national rollout (issue 22, item 4): partitions, replicas, cores, memory and
PostgreSQL sizing at the crisis peak, and which limit is met first, recomputed from the measured
figures of the end-to-end bench.

Input: ``bench/results/e2e.json`` (``bench/e2e.py``: CPU per delivery and peak RSS per process);
without it, the run recorded in docs/benchmarks.md (the table ``bench/e2e/report.py`` writes from the
same JSON). Platform limits per account: each adapter's declared ``requests_per_period`` and
YouTube's ``youtube_daily_uploads`` (the code's own figures). The assumptions are the ``Assumptions``
defaults, printed with the tables; change them with flags (``--help``).

    PYTHONPATH=shared:. python bench/capacity.py [--offices 100 --units 20 ...]

Writes the tables between the markers of docs/capacity.md, ``bench/results/capacity.json``, and
prints ``name: value unit`` figures last.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from loa.publisher.settings import PublisherSettings  # noqa: E402 - after the path above

E2E_JSON = ROOT / "bench" / "results" / "e2e.json"
BENCH_DOC = ROOT / "docs" / "benchmarks.md"
DOC = ROOT / "docs" / "capacity.md"
RESULTS = ROOT / "bench" / "results" / "capacity.json"
BEGIN, END = "<!-- capacity:begin -->", "<!-- capacity:end -->"
CHANNELS = ("facebook", "zalo", "youtube", "x", "webhook")
"""The five social/outbound channels of the rollout; the website is one site per office, not an account."""
INFRA = ("kafka", "postgres", "minio")
REQUESTS_PER_POST = {"facebook": 2, "zalo": 2, "youtube": 3, "x": 2, "webhook": 1}
"""Platform API calls per post (a find before the first attempt, the media upload, the publish)."""
PLATFORM_LATENCY_MS = {"facebook": 500, "zalo": 400, "youtube": 800, "x": 300, "webhook": 200}
"""Per call: the e2e bench's "realistic platforms" phase (docs/benchmarks.md)."""
MIN_REPLICAS = 2
"""One replica may be drained or killed at any time (the chart's PodDisruptionBudget): never fewer."""


@dataclass(frozen=True)
class Assumptions:
    offices: int = 100
    units: int = 20
    """units per office, each posting on every channel"""
    posts_per_unit_per_day: float = 20
    crisis_factor: float = 20
    """the peak hour carries this many times an average hour's posts"""
    accounts_per_office: int = 1
    """accounts per office and channel (a ministry has one Facebook page, not one per unit)"""
    concurrency: int = PublisherSettings.model_fields["publisher_concurrency"].default
    """deliveries in flight per publisher replica (LOA_PUBLISHER_CONCURRENCY's default)"""
    cpu_utilisation: float = 0.6
    """the share of a core a replica is planned to use at the peak"""
    headroom: float = 2.0
    """partitions = this x the replicas the peak needs (room to scale without repartitioning)"""
    bytes_per_delivery: int = 4096
    """PostgreSQL bytes per delivery over the job store, the tracker's view and the audit (not measured)"""
    retention_days: int = 365

    def calls(self, channel: str) -> float:
        return REQUESTS_PER_POST[channel]

    def latency_s(self, channel: str) -> float:
        return PLATFORM_LATENCY_MS[channel] / 1000


def measured() -> tuple[dict[str, float], dict[str, float], str]:
    """CPU ms per delivery (all channels' deliveries) and peak RSS MB per process, and their source."""
    if E2E_JSON.exists():
        r = json.loads(E2E_JSON.read_text(encoding="utf-8"))
        cpu = r["summary"]["cpu_ms_per_delivery"]
        rss = {n: p["peak_rss_mb"] for n, p in r["processes"].items()}
        return cpu, rss, f"{E2E_JSON.relative_to(ROOT)} ({r.get('date', '?')})"
    return *recorded_e2e(BENCH_DOC.read_text(encoding="utf-8")), "docs/benchmarks.md (the recorded e2e run)"


def recorded_e2e(text: str) -> tuple[dict[str, float], dict[str, float]]:
    """The e2e bench's process table in docs/benchmarks.md: ``name  peak RSS MB  CPU s  CPU ms``."""
    block = text.split("process      peak RSS MB", 1)[1].split("```", 1)[0]
    cpu, rss = {}, {}
    for name, peak, _cpu_s, per in re.findall(r"^(\w+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", block, re.M):
        rss[name], cpu[name] = float(peak), float(per)
    return cpu, rss


def platform_limits() -> dict[str, float]:
    """Requests per hour per account each channel's adapter declares (YouTube: uploads per day)."""
    from loa.channels import registry
    from services.youtube.settings import YouTubeSettings

    adapters = registry.load_entry_points()
    limits = {}
    for channel in CHANNELS:
        per = adapters[channel].limits.requests_per_period
        limits[channel] = per[0] * 3600 / per[1] if per else math.inf
    limits["youtube_uploads_per_day"] = YouTubeSettings.model_fields["youtube_daily_uploads"].default
    return limits


def model(
    a: Assumptions, cpu: dict[str, float], rss: dict[str, float], limits: dict[str, float]
) -> dict[str, Any]:
    per_day = a.offices * a.units * a.posts_per_unit_per_day  # contents, each to every channel
    peak_contents_s = per_day / 24 * a.crisis_factor / 3600
    measured_channels = [c for c in (*CHANNELS, "website") if c in cpu]
    channels: dict[str, Any] = {}
    for channel in CHANNELS:
        # the bench spreads every content over every channel: a publisher's CPU per delivery of its
        # own channel is its share of all deliveries times the channels measured
        cpu_ms = cpu[channel] * len(measured_channels)
        cpu_replicas = peak_contents_s * cpu_ms / 1000 / a.cpu_utilisation
        in_flight = peak_contents_s * a.calls(channel) * a.latency_s(channel)  # Little's law
        replicas = max(MIN_REPLICAS, math.ceil(max(cpu_replicas, in_flight / a.concurrency)))
        accounts = a.offices * a.accounts_per_office
        per_account_hour = peak_contents_s * 3600 / accounts * a.calls(channel)
        channels[channel] = {
            "peak_deliveries_per_s": round(peak_contents_s, 2),
            "cpu_ms_per_delivery": round(cpu_ms, 2),
            "replicas": replicas,
            "in_flight": round(in_flight, 1),
            "platform_requests_per_account_hour": round(per_account_hour, 1),
            "platform_limit_per_account_hour": limits[channel],
            "platform_load": round(per_account_hour / limits[channel], 2),  # 0 without a declared limit
        }
    youtube_day = a.posts_per_unit_per_day * a.units / a.accounts_per_office
    channels["youtube"]["uploads_per_account_day"] = youtube_day
    channels["youtube"]["uploads_limit_per_day"] = limits["youtube_uploads_per_day"]
    most = max(channels.values(), key=lambda c: c["replicas"])["replicas"]
    partitions = max(12, 6 * math.ceil(most * a.headroom / 6))
    deliveries_peak = peak_contents_s * len(CHANNELS)
    tracker_replicas = max(
        MIN_REPLICAS, math.ceil(deliveries_peak * cpu.get("tracker", 0) / 1000 / a.cpu_utilisation)
    )
    loa_cores = deliveries_peak * sum(cpu.get(n, 0) for n in ("tracker", *CHANNELS)) / 1000
    infra_cores = deliveries_peak * sum(cpu.get(n, 0) for n in INFRA) / 1000
    replicas_total = sum(c["replicas"] for c in channels.values()) + tracker_replicas
    memory_mb = sum(c["replicas"] * rss.get(n, 0) for n, c in channels.items()) + tracker_replicas * rss.get(
        "tracker", 0
    )
    bottlenecks = [
        (
            c["platform_load"],
            f"{n}: {c['platform_requests_per_account_hour']:.0f} requests/account/h at the peak vs its "
            f"limit {c['platform_limit_per_account_hour']:.0f}",
        )
        for n, c in channels.items()
        if math.isfinite(c["platform_limit_per_account_hour"])
    ]
    quota = limits["youtube_uploads_per_day"]
    bottlenecks.append(
        (youtube_day / quota, f"youtube: {youtube_day:.0f} uploads/account/day vs its quota {quota:.0f}")
    )
    bottlenecks.sort(reverse=True)
    return {
        "assumptions": asdict(a),
        "contents_per_day": per_day,
        "deliveries_per_day": per_day * len(CHANNELS),
        "peak_contents_per_s": round(peak_contents_s, 2),
        "peak_deliveries_per_s": round(deliveries_peak, 2),
        "channels": channels,
        "partitions": partitions,
        "tracker_replicas": tracker_replicas,
        "replicas_total": replicas_total,
        "loa_cores_at_peak": round(loa_cores, 2),
        "infra_cores_at_peak": round(infra_cores, 2),
        "memory_mb": round(memory_mb),
        "postgres": {
            "cores_at_peak": round(deliveries_peak * cpu.get("postgres", 0) / 1000, 2),
            "storage_gb_per_year": round(
                per_day * len(CHANNELS) * a.bytes_per_delivery * a.retention_days / 1e9, 1
            ),
            "connections": (replicas_total + 4) * 15,  # SQLAlchemy's pool: 5 + 10 overflow per process
        },
        "first_bottleneck": bottlenecks[0][1] if bottlenecks[0][0] >= 1 else "none: every load under 1",
        "bottlenecks": [{"load": round(load, 2), "what": what} for load, what in bottlenecks],
    }


def tables(m: dict[str, Any], source: str) -> str:
    a = m["assumptions"]
    lines = [
        f"Measured figures from {source}; platform limits from the adapters (`requests_per_period`) and",
        "`youtube_daily_uploads`. Recomputed by `PYTHONPATH=shared:. python bench/capacity.py`.",
        "",
        "| assumption | value |",
        "|---|---|",
        *(f"| {f.name} | {a[f.name]} |" for f in fields(Assumptions)),
        f"| platform calls per post | {REQUESTS_PER_POST} |",
        f"| platform latency per call (ms) | {PLATFORM_LATENCY_MS} |",
        "",
        f"Load: {m['contents_per_day']:,.0f} contents/day, {m['deliveries_per_day']:,.0f} deliveries/day; "
        f"peak hour {m['peak_contents_per_s']} contents/s = {m['peak_deliveries_per_s']} deliveries/s.",
        "",
        "| channel | CPU ms/delivery | in flight at peak | replicas | requests/account/h | limit/h | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in m["channels"].items():
        lines.append(
            f"| {name} | {c['cpu_ms_per_delivery']} | {c['in_flight']} | {c['replicas']} | "
            f"{c['platform_requests_per_account_hour']} | {c['platform_limit_per_account_hour']:.0f} | "
            f"{c['platform_load']} |"
        )
    pg = m["postgres"]
    lines += [
        "",
        "| sizing | value |",
        "|---|---|",
        f"| partitions per topic | {m['partitions']} |",
        f"| tracker replicas | {m['tracker_replicas']} |",
        f"| Loa replicas in all | {m['replicas_total']} |",
        f"| Loa cores at the peak | {m['loa_cores_at_peak']} |",
        f"| Kafka + PostgreSQL + MinIO cores at the peak | {m['infra_cores_at_peak']} |",
        f"| Loa memory (peak RSS x replicas) | {m['memory_mb']} MB |",
        f"| PostgreSQL cores at the peak | {pg['cores_at_peak']} |",
        f"| PostgreSQL storage per year | {pg['storage_gb_per_year']} GB |",
        f"| PostgreSQL connections (pools) | {pg['connections']} |",
        "",
        f"**First bottleneck:** {m['first_bottleneck']}.",
        "",
        "| load (1 = at the limit) | what |",
        "|---|---|",
        *(f"| {b['load']} | {b['what']} |" for b in m["bottlenecks"]),
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    DOC.write_text(f"{head}{BEGIN}\n{section}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")


def parse_args(argv: list[str]) -> Assumptions:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for f in fields(Assumptions):
        if f.type in ("int", "float"):
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=float, default=f.default)
    args: dict[str, Any] = vars(parser.parse_args(argv))
    kinds = {f.name: f.type for f in fields(Assumptions)}
    return Assumptions(**{k: int(v) if kinds[k] == "int" else v for k, v in args.items()})


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    cpu, rss, source = measured()
    m = model(a, cpu, rss, platform_limits())
    m["source"] = source
    write_doc(tables(m, source))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(m, indent=2, default=str) + "\n", encoding="utf-8")
    print(tables(m, source))
    print(f"capacity_peak_deliveries: {m['peak_deliveries_per_s']} deliveries/s")
    print(f"capacity_partitions: {m['partitions']} partitions")
    print(f"capacity_replicas: {m['replicas_total']} replicas")
    print(f"capacity_loa_cores: {m['loa_cores_at_peak']} cores")
    print(f"capacity_memory: {m['memory_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
