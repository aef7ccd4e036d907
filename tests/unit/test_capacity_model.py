"""bench/capacity.py: the national rollout's sizing follows the measured figures and the assumptions,
and names the limit met first."""

from __future__ import annotations

import pytest

from bench.capacity import BENCH_DOC, CHANNELS, Assumptions, model, platform_limits, recorded_e2e

pytestmark = pytest.mark.unit

CPU = {"tracker": 1.0, **dict.fromkeys(CHANNELS, 2.0), "kafka": 0.5, "postgres": 0.5, "minio": 1.0}
RSS = {"tracker": 140.0, **dict.fromkeys(CHANNELS, 150.0)}
LIMITS = {"facebook": 3000.0, "zalo": 36000.0, "youtube": float("inf"), "x": 400.0, "webhook": 36000.0}


def limits(**changes: float) -> dict[str, float]:
    return {**LIMITS, "youtube_uploads_per_day": 100, **changes}


def test_the_load_follows_the_assumptions() -> None:
    m = model(Assumptions(), CPU, RSS, limits())
    assert m["deliveries_per_day"] == 100 * 20 * 20 * 5
    assert m["peak_deliveries_per_s"] == pytest.approx(200_000 / 24 * 20 / 3600, abs=0.01)


def test_a_larger_crisis_needs_more_replicas_and_partitions_keep_room_for_them() -> None:
    calm = model(Assumptions(), CPU, RSS, limits())
    crisis = model(Assumptions(crisis_factor=400), CPU, RSS, limits())
    assert crisis["replicas_total"] > calm["replicas_total"]
    most = max(c["replicas"] for c in crisis["channels"].values())
    assert crisis["partitions"] >= 2 * most and crisis["partitions"] % 6 == 0
    assert all(c["replicas"] >= 2 for c in calm["channels"].values())  # one may always be drained


def test_the_first_bottleneck_is_the_tightest_platform_limit() -> None:
    generous = limits(youtube_uploads_per_day=10_000)
    assert model(Assumptions(), CPU, RSS, generous)["first_bottleneck"].startswith("x:")
    spread = model(Assumptions(accounts_per_office=20), CPU, RSS, generous)
    assert spread["first_bottleneck"].startswith("none")


def test_the_recorded_e2e_run_and_the_adapters_limits_are_read() -> None:
    cpu, rss = recorded_e2e(BENCH_DOC.read_text(encoding="utf-8"))
    assert set(CHANNELS) | {"tracker", "kafka", "postgres"} <= set(cpu)
    assert all(v > 0 for v in rss.values())
    declared = platform_limits()
    assert declared["x"] == 100 * 3600 / 900  # 100 requests per 15 minutes (services/x/adapter.py)
    assert declared["youtube_uploads_per_day"] == 100


def test_doubling_the_cpu_cost_doubles_the_cores() -> None:
    base = model(Assumptions(), CPU, RSS, limits())
    double = model(Assumptions(), {k: 2 * v for k, v in CPU.items()}, RSS, limits())
    assert double["loa_cores_at_peak"] == pytest.approx(2 * base["loa_cores_at_peak"], rel=0.02)
