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


def test_the_bench_s_watching_is_not_counted_as_the_work() -> None:
    r = results()
    # 60 samples in the phase, each 2.5 ms of the tracker's CPU and 0.5 ms of the webhook's.
    per_sample = {"tracker": 0.0025, "webhook": 0.0005}
    r["phases"]["r30"]["watching"] = {"samples": 60, "cpu_s_per_sample": per_sample}
    f = fair.fair_cost(r, "r30")

    assert f["tracker_ms_per_delivery"] == pytest.approx((2.25 - 0.15) / 1.8)
    assert f["tracker_ms_per_delivery_watched"] == pytest.approx(1.25)  # as measured
    assert f["channels"]["webhook"]["ms_per_delivery"] == pytest.approx(3.0)  # a publisher's: as measured
    assert f["reference"]["ms_per_delivery"] == pytest.approx(1.0)


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


def overload_phase(published: int, failed: int = 0, extra: int = 0) -> dict[str, Any]:
    """600 contents to five channels sent at 80/s; the last published 75 s after the first approval."""
    return {
        "contents": 600,
        "deliveries": 3000,
        "published": published,
        "failed": failed,
        "deliveries_per_s": published / 75,
        "lag": {"offered_contents_per_s": 80.0, "drained": published + failed == 3000},
        "sandbox_check": {"webhook": {"extra_posts": extra}, "x": {"extra_posts": 0}},
    }


def test_the_overload_against_the_peak_of_the_other_phases() -> None:
    r = {"phases": {fair.OVERLOAD: overload_phase(3000)}}
    o = fair.overload(r, peak=100.0, loa_rss_mb={"webhook": 98.0, "tracker": 131.0})
    assert o is not None
    assert o["offered_deliveries_per_s"] == pytest.approx(400.0)  # 80 contents/s × 5 deliveries each
    assert o["goodput_deliveries_per_s"] == pytest.approx(40.0)
    assert o["rss_over"] == {"tracker": 131.0}
    verdicts = {name: met for name, _, _, _, met in fair.overload_verdicts(o)}
    assert verdicts == {
        "verdict_overload_offered": True,  # 4.0× the peak
        "verdict_overload_goodput": False,  # 40 %: collapsed
        "verdict_overload_rss": False,
        "verdict_overload_exactly_once": True,
    }


@pytest.mark.parametrize(("failed", "extra"), [(1, 0), (0, 2)])
def test_a_failed_delivery_or_a_second_post_is_not_exactly_once(failed: int, extra: int) -> None:
    r = {"phases": {fair.OVERLOAD: overload_phase(3000 - failed, failed, extra)}}
    o = fair.overload(r, peak=100.0, loa_rss_mb={})
    assert o is not None and not o["exactly_once"]


def test_no_overload_phase_no_overload_verdicts() -> None:
    assert fair.overload(results(), peak=100.0, loa_rss_mb={}) is None


def test_a_labelled_run_s_section_shows_its_own_plots() -> None:
    f = fair.fair_cost(results(), "r30")
    phases = {"r30": results()["phases"]["r30"], "over": overload_phase(3000)}
    over = fair.overload({"phases": phases}, 40.0, {})

    assert "(img/e2e-s27-cpu-vs-reference.png)" in fair.doc_section(f, None, over, "e2e-s27")
    assert "(img/e2e-s27-goodput.png)" in fair.doc_section(f, None, over, "e2e-s27")
    assert "(img/e2e-cpu-vs-reference.png)" in fair.doc_section(f, None)  # make bench's own run


def test_the_cpu_targets_are_judged_below_the_overload() -> None:
    def ran(per_s: float, drained: bool = True) -> dict[str, Any]:
        return {"deliveries_per_s": per_s, "lag": {"drained": drained}}

    # the overload drained and carried the most, as in s28: the verdicts stay with r30
    phases = {"r10": ran(50.0), "slow": ran(15.0), "r30": ran(78.9), "over": ran(90.9)}
    assert fair.judged_phase(phases) == "r30"
    assert fair.judged_phase({**phases, "r30": ran(78.9, drained=False)}) == "r10"
    assert fair.judged_phase({"over": ran(90.9)}) is None


def test_a_reference_on_httpx_is_named_in_the_verdicts_and_the_section() -> None:
    # LOA_BENCH_REFERENCE_CLIENT=httpx: the floor under the brief's HTTP client, not issue #20's
    # http.client reference; a verdict against it must not read as the issue's.
    r = {**results(), "reference_client": "httpx"}
    f = fair.fair_cost(r, "r30")
    targets = [target for _, _, _, target, _ in fair.verdicts(f, None)]

    assert targets[:2] == [
        "webhook CPU per delivery <= 2x the reference's on httpx",
        "facebook CPU per platform call <= 3x the reference's on httpx",
    ]
    assert "the adapter's request over `httpx`" in fair.doc_section(f, None)
    assert "over `http.client`" in fair.doc_section(fair.fair_cost(results(), "r30"), None)


def test_the_reference_s_batch_is_shown_when_the_run_counted_it() -> None:
    # Its CPU per delivery falls as a transaction carries more deliveries (docs/benchmarks.md,
    # "Session 44"), so a run that counted its transactions of answers shows their size.
    r = results()
    r["phases"]["r30"]["reference"] |= {"answer_batches": 144}
    f = fair.fair_cost(r, "r30")

    assert f["reference"]["deliveries_per_tx"] == pytest.approx(6.25)
    assert "e2e_reference_deliveries_per_answer_tx: 6.2 deliveries" in fair.figure_lines(f, None)
    assert "900 deliveries (6.2 a transaction)" in fair.doc_section(f, None)
    older = fair.fair_cost(results(), "r30")  # a run recorded before the count
    assert older["reference"]["deliveries_per_tx"] is None
    assert not any("deliveries_per_answer_tx" in line for line in fair.figure_lines(older, None))
