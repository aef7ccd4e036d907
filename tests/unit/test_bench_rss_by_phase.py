"""The e2e bench's memory figures (issue #20, "every service stays ≤ 120 MB RSS"): beside each
service's peak over the run, its RSS before the first phase and its peak within each phase, so a
run shows whether load adds to a service's memory or its start already holds it."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from bench.e2e.measure import ProcessSampler
from bench.e2e.report import rss_by_phase

pytestmark = pytest.mark.unit

MB = 2**20


def _touched(size: int) -> bytearray:
    block = bytearray(size)
    for i in range(0, size, 4096):  # resident only once written
        block[i] = 1
    return block


def test_each_window_holds_the_peak_of_its_own_time_and_the_start_is_kept_apart() -> None:
    sampler = ProcessSampler({"bench": os.getpid()}).start()
    try:
        start = sampler.start_rss["bench"] / MB
        sampler.window()
        block = _touched(64 * MB)
        time.sleep(1.2)  # one sample of the sampler's own, besides the one `window` takes
        loaded = sampler.window()["bench"]
        del block  # a block this large is its own mapping: freed, it leaves the process
        quiet = sampler.window()["bench"]
    finally:
        processes = sampler.stop()
    assert loaded >= start + 60, (start, loaded)
    assert quiet <= loaded - 50, (loaded, quiet)  # the window after does not carry the peak before it
    assert processes["bench"]["start_rss_mb"] == pytest.approx(start)
    assert processes["bench"]["peak_rss_mb"] >= loaded


def test_the_table_shows_each_loa_service_at_start_and_per_phase_and_skips_older_runs() -> None:
    run: dict[str, Any] = {
        "phases": {
            "r30": {"peak_rss_mb": {"tracker": 131.4, "webhook": 109.6, "kafka": 700.0}},
            "over": {"peak_rss_mb": {"tracker": 150.2, "webhook": 110.1, "kafka": 712.0}},
        },
        "processes": {
            "tracker": {"peak_rss_mb": 150.2, "start_rss_mb": 127.0, "cpu_s": 1.0},
            "webhook": {"peak_rss_mb": 110.1, "start_rss_mb": 102.0, "cpu_s": 1.0},
            "kafka": {"peak_rss_mb": 712.0, "start_rss_mb": 690.0, "cpu_s": 1.0},
        },
    }
    lines = rss_by_phase(run)
    assert lines[0].split() == ["RSS", "MB", "at", "start", "r30", "over"]
    assert lines[1].split() == ["tracker", "127", "131", "150"]
    assert lines[2].split() == ["webhook", "102", "110", "110"]
    assert len(lines) == 3  # Kafka is not Loa's: its memory is not judged here
    del run["phases"]["r30"]["peak_rss_mb"], run["phases"]["over"]["peak_rss_mb"]
    assert rss_by_phase(run) == []  # a run recorded before these figures existed
