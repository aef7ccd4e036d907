"""The listener bench (``bench/listener.py``) measures the listener alone: its listener process
imports nothing of the sandbox, both processes build the same accounts from the plan, and a small
run reads every due post within the emulated windows."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest

from bench import listener
from bench.listener_plan import plan
from bench.listener_poll import Accounts
from loa.settings import REPO_ROOT

pytestmark = pytest.mark.unit


def test_listener_process_holds_no_sandbox() -> None:
    probe = "import sys, bench.listener_poll; print(sorted(m for m in sys.modules if 'sandbox' in m))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_plan_is_the_same_in_both_processes_and_splits_four_three_three() -> None:
    first, second = plan(100), plan(100)
    assert first == second  # credentials derive from the index: no secrets cross processes
    channels = [p.channel for p in first.posts]
    assert (channels.count("facebook"), channels.count("youtube"), channels.count("x")) == (40, 30, 30)
    assert len({p.external_id for p in first.posts}) == 100
    text = next(p.text for p in first.posts if p.channel == "facebook")
    assert text == unicodedata.normalize("NFC", "Thông báo số 0 của Sở")
    names = {(p.channel, p.account) for p in first.posts}
    assert names <= set(Accounts(first).accounts)


def test_small_run_reads_every_post_within_the_windows() -> None:
    figures = listener.main(20)
    assert figures["polled_reads"] == 40
    assert figures["within_limits"] is True
    assert sum(v for k, v in figures.items() if k.startswith("polls_") and k.endswith("_read")) == 40
    assert figures["facebook_calls_max_per_page_hour"] == 4 * 3  # 4 posts a Page, 2 + 1 calls each
    assert 0 < figures["listener_peak_rss_mb"] < listener.RSS_LIMIT_MB
