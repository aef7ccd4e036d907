"""Issue #20's fair cost in the e2e bench's report (``bench/e2e/fair.py``): each Loa process against
the reference publisher, from one phase's figures."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench.e2e import fair

pytestmark = pytest.mark.unit


def phase(cpu: dict[str, float], calls: dict[str, int], published: dict[str, int]) -> dict[str, Any]:
    return {
        "rate": 30.0,
        "cpu_s": cpu,
        "reference": {"answered": 900, "requests": 1000},
        "platform_calls": calls,
        "per_channel": {c: {"n": n, "p99_ms": 400.0} for c, n in published.items()},
        "published": sum(published.values()),
    }


def results() -> dict[str, Any]:
    cpu = {"reference": 0.9, "webhook": 2.7, "facebook": 6.0, "tracker": 2.25, "kafka": 50.0}
    # The webhook emulator counted the reference's 1,000 requests too: Loa's webhook made 900.
    calls = {"webhook": 1900, "facebook": 2000}
    return {"phases": {"r30": phase(cpu, calls, {"webhook": 900, "facebook": 900})}}


def test_each_process_against_the_reference() -> None:
    f = fair.fair_cost(results(), "r30")

    assert f["reference"]["ms_per_delivery"] == pytest.approx(1.0)
    assert f["reference"]["ms_per_request"] == pytest.approx(0.9)
    webhook, facebook = f["channels"]["webhook"], f["channels"]["facebook"]
    assert webhook["platform_calls"] == 900
    assert webhook["ms_per_delivery"] == pytest.approx(3.0)
    assert webhook["times_reference"] == pytest.approx(3.0)  # per delivery against per delivery
    assert facebook["ms_per_call"] == pytest.approx(3.0)
    assert facebook["times_reference"] == pytest.approx(3.0 / 0.9)  # per call against per request
    assert f["tracker_ms_per_delivery"] == pytest.approx(1.25)  # over every channel's deliveries


def test_verdicts_name_the_target_and_say_missed() -> None:
    f = fair.fair_cost(results(), "r30")
    lines = fair.figure_lines(f, fair.p99_at_rate(results()))

    assert lines[-4:] == [
        "verdict_webhook_cpu_vs_reference: 3.00 x (webhook CPU per delivery <= 2x the reference's: MISSED)",
        "verdict_facebook_cpu_vs_reference: 3.33 x"
        " (facebook CPU per platform call <= 3x the reference's: MISSED)",
        "verdict_tracker_cpu_per_delivery: 1.25 ms (tracker <= 0.5 ms CPU per delivery: MISSED)",
        "verdict_p99_at_30: 400.00 ms (p99 <= 500 ms per channel at 30 contents/s: met)",
    ]


def test_a_reference_that_did_nothing_gives_no_verdict_of_met() -> None:
    r = results()
    r["phases"]["r30"]["reference"] = {"answered": 0, "requests": 0}
    f = fair.fair_cost(r, "r30")

    assert math.isnan(f["channels"]["webhook"]["times_reference"])
    assert not any(met for *_, met in fair.verdicts(f, None)[:2])
