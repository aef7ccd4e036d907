"""The multi-replica chaos run (issue #22, item 2), short: ``bench/chaos.py`` for 30 s on two
channels, 3 publisher replicas each on one PostgreSQL job store, 2 trackers, 12 partitions, a
replica SIGKILLed every 4-6 s and started again. Every delivery on its platform exactly once, the
tracker showing it published with the platform's id, every group whole with no lag at the end.
The full run (every channel, 2 minutes) is ``make chaos``; its figures are in docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos.harness import main
from tests.conftest import Stack

pytestmark = pytest.mark.e2e


def test_replicas_killed_at_random_post_everything_once_and_the_groups_settle(
    stack: Stack, tmp_path: Path
) -> None:
    results = main(
        [
            "--seconds=30",
            "--interval=4-6",
            "--channels=webhook,facebook",
            f"--results={tmp_path / 'chaos.json'}",
        ]
    )
    verdict = results["verdict"]
    assert verdict["published"] == verdict["deliveries"] == 2 * 60
    assert not verdict["duplicates"] and not verdict["losses"], verdict
    assert not verdict["not_final"] and not verdict["mismatched"], verdict
    assert len(results["kills"]) >= 3  # one a service at a time: fewer when recoveries are slow
    assert all(k["recovered_s"] is not None for k in results["kills"]), results["kills"]
    assert results["groups_whole_at_end"] and not any(results["lag_at_end"].values())
    assert results["passed"]
