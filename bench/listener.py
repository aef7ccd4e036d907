"""Listener bench: 10,000 followed posts all due at once, through the real poller, store and readers.

Each post has its two reads due, the figures and the comments (each on its own schedule in the
listener; here they coincide, the worst case): 20,000 reads.

The posts are split over Facebook (Pages), YouTube (one Google project) and X (accounts) and all
fall due together, the worst a day of publishing can do (``bench/listener_plan.py``). Three
processes: this one, the sandbox seeded with the posts (``bench/listener_sandbox.py``), and the
listener (``bench/listener_poll.py``: the real ``Poller`` claiming them from a SQLite store and
reading each through its channel's reader, facebook-sdk, google-api-python-client, tweepy; the
samples go to a counter, not to Kafka, the listener's path to Kafka being one ``publish`` per
reading, measured by the tracker's benches). The listener stops when a claim finds nothing due
(every post read or deferred past its platform's limit).

Checked against each platform's window as the sandbox emulates it (the calls it received, from
``/_bench/listener/windows``): Facebook's hourly call budget per Page (the listener stops at 75 % of
it), the listener's share of the YouTube project's daily units, X's requests per 15 minutes per user
for the lookup endpoint and for recent search (the replies). Also: the listener process's peak RSS
(sampled every second with psutil, as ``bench/e2e`` does, and the kernel's high-water mark), CPU
time per polled read (reads and deferrals), and what one post costs over its whole life on the
default schedules (``lifetime_*``: reads, Graph calls, YouTube units, X requests).

    PYTHONPATH=shared:. python bench/listener.py --posts 10000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.e2e.measure import ProcessSampler
from bench.e2e.stack import Service
from bench.listener_plan import YOUTUBE_SHARE
from loa.settings import REPO_ROOT
from loa.testing.ports import free_port
from services.listener.schedule import Read
from services.listener.settings import ListenerSettings

RESULTS = Path(__file__).parent / "results"
RSS_LIMIT_MB = 150  # issue #18: the listener following 10,000 posts stays within 150 MB RSS


def lifetime(settings: ListenerSettings) -> dict[str, int]:
    """What one followed post costs on the default schedules: reads of each kind and the platform
    calls they make (Facebook: 2 a figures read, 1 a comments read; YouTube: 1 unit each; X: a
    lookup a figures read, a recent search a comments read)."""
    tables = settings.schedules()
    figures, comments = len(tables[Read.FIGURES].offsets), len(tables[Read.COMMENTS].offsets)
    return {
        "lifetime_figure_reads_per_post": figures,
        "lifetime_comment_reads_per_post": comments,
        "lifetime_facebook_calls_per_post": 2 * figures + comments,
        "lifetime_youtube_units_per_post": figures + comments,
        "lifetime_x_lookups_per_post": figures,
        "lifetime_x_searches_per_post": comments,
    }


def main(posts: int) -> dict[str, float | int | bool]:
    work = Path(tempfile.mkdtemp(prefix="loa-bench-listener-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOA_MODE": "development", "LOA_SANDBOX_PORT": str(port)}
    sandbox = Service(
        "sandbox",
        [sys.executable, "-m", "bench.listener_sandbox", "--posts", str(posts)],
        env,
        f"{url}/_sandbox/clock",
        work / "sandbox.log",
    )
    sandbox.start()
    try:
        while not sandbox.healthy():
            if sandbox.proc is not None and sandbox.proc.poll() is not None:
                raise RuntimeError(f"sandbox: exited before answering; see {sandbox.log}")
            time.sleep(0.2)
        listener = subprocess.Popen(
            [sys.executable, "-m", "bench.listener_poll", "--posts", str(posts), "--sandbox", url],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
        )
        sampler = ProcessSampler({"listener": listener.pid}).start()
        out, _ = listener.communicate()
        rss = sampler.stop()["listener"]
        if listener.returncode:
            raise RuntimeError(f"listener: exited with {listener.returncode}")
        polled = json.loads(out.decode().strip().splitlines()[-1])
        windows = httpx.get(f"{url}/_bench/listener/windows", timeout=30).json()
    finally:
        sandbox.stop()
    peak = max(rss["peak_rss_mb"], polled.pop("listener_maxrss_mb"))
    return {
        "followed_posts": posts,
        **polled,
        **windows,
        "youtube_units_listener_share": YOUTUBE_SHARE,
        "within_limits": windows["facebook_calls_max_per_page_hour"]
        <= windows["facebook_limit_per_page_hour"]
        and windows["youtube_units_used"] <= YOUTUBE_SHARE
        and max(windows["x_calls_max_per_account_window"], windows["x_searches_max_per_account_window"])
        <= windows["x_limit_per_account_window"],
        "listener_peak_rss_mb": peak,
        "listener_sampled_peak_rss_mb": rss["peak_rss_mb"],
        "within_rss_limit": peak <= RSS_LIMIT_MB,
        **lifetime(ListenerSettings(mode="development")),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("LOA_MODE", "development")
    figures = main(args.posts)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "listener.json").write_text(json.dumps(figures, indent=2) + "\n")
    units = {"seconds": "s", "mb": "MB", "ms_per_polled_read": "ms"}
    for name, value in figures.items():
        unit = next((u for suffix, u in units.items() if name.endswith(suffix)), "")
        print(f"{name}: {value:.3f} {unit}".rstrip() if isinstance(value, float) else f"{name}: {value}")
