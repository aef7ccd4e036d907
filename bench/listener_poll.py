"""``python -m bench.listener_poll --posts N --sandbox URL``: the listener bench's listener process.

The real ``Poller`` claims the plan's followed posts from a SQLite store and reads each through its
channel's reader (facebook-sdk, google-api-python-client, tweepy) against the sandbox at ``URL``
(another process); the samples go to a counter, not to Kafka. Stops when a claim finds nothing due.
Prints its figures as one JSON line; it imports nothing of the sandbox, so its memory is the
listener's own (``bench/listener.py`` samples it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.listener_plan import REFRESH, YOUTUBE_SHARE, Plan, plan
from loa.channels import Account, Secret
from loa.channels.engagement import EngagementReader
from loa.events import Comments, Engagement, utcnow
from services.facebook.engagement import FacebookEngagement
from services.facebook.settings import FacebookSettings
from services.listener.poller import Poller
from services.listener.schedule import Read
from services.listener.settings import ListenerSettings
from services.listener.store import FollowedStore
from services.listener.tables import followed
from services.x.engagement import XEngagement
from services.x.settings import XSettings
from services.youtube.engagement import YouTubeEngagement
from services.youtube.settings import YouTubeSettings


class Accounts:
    def __init__(self, wanted: Plan) -> None:
        self.accounts: dict[tuple[str, str], Account] = {}
        for p, (page_id, token) in enumerate(wanted.pages.items()):
            self.accounts[("facebook", f"trang-{p}")] = Account(
                "facebook", f"trang-{p}", {"page_access_token": Secret(token)}, {"page_id": page_id}
            )
        youtube = {"client_id": "bench", "client_secret": "s", "refresh_token": REFRESH}
        self.accounts[("youtube", "kenh")] = Account(
            "youtube", "kenh", {k: Secret(v) for k, v in youtube.items()}
        )
        for name, keys in wanted.x_accounts.items():
            self.accounts[("x", name)] = Account("x", name, {k: Secret(v) for k, v in keys.items()})

    async def get(self, channel: str, name: str) -> Account | None:
        return self.accounts.get((channel, name))


def rows(wanted: Plan) -> list[dict[str, object]]:
    """Each post's two reads, both due now."""
    now = utcnow()
    return [
        {
            "content_id": post.content_id,
            "version": 1,
            "channel": post.channel,
            "account": post.account,
            "external_id": post.external_id,
            "published_at": now - timedelta(minutes=10),
            "step": 0,
            "next_poll_at": now,
            "kind": kind.value,
        }
        for post in wanted.posts
        for kind in Read
    ]


def readers(sandbox_url: str) -> dict[str, EngagementReader]:
    return {
        "facebook": FacebookEngagement(
            FacebookSettings(mode="development", facebook_graph_url=f"{sandbox_url}/graph")
        ),
        "youtube": YouTubeEngagement(
            YouTubeSettings(
                mode="development", youtube_api_url=sandbox_url, youtube_token_url=f"{sandbox_url}/token"
            ),
            daily_units=YOUTUBE_SHARE,
        ),
        "x": XEngagement(XSettings(mode="development", x_api_url=f"{sandbox_url}/x")),
    }


async def main(posts: int, sandbox_url: str) -> dict[str, float | int]:
    work = Path(tempfile.mkdtemp(prefix="loa-bench-listener-"))
    settings = ListenerSettings(
        mode="development",
        listener_database_url=f"sqlite+aiosqlite:///{work / 'listener.db'}",
        listener_youtube_daily_units=YOUTUBE_SHARE,
        listener_concurrency=16,
        listener_batch=200,
    )
    store = await FollowedStore.open(settings.listener_database_url)
    wanted = plan(posts)
    accounts = Accounts(wanted)
    due = rows(wanted)
    async with store.engine.begin() as conn:
        for start in range(0, len(due), 1000):
            await conn.execute(insert(followed), due[start : start + 1000])
    del due, wanted
    by_channel = readers(sandbox_url)
    samples = 0

    async def emit(_: Engagement | Comments) -> None:
        nonlocal samples
        samples += 1

    poller = Poller(settings, store, by_channel, accounts, emit)
    cpu0, wall0 = time.process_time(), time.monotonic()
    polled = 0
    while claimed := await store.claim(
        poller.owner, limit=settings.listener_batch, lease=timedelta(minutes=5)
    ):
        await asyncio.gather(*(poller.poll_in_slot(post) for post in claimed))
        polled += len(claimed)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    outcomes = {
        f"{sample.labels['channel']}_{sample.labels['kind']}_{sample.labels['outcome']}": int(sample.value)
        for metric in poller.metrics.registry.collect()
        for sample in metric.samples
        if sample.name == "loa_listener_polls_total"
    }
    for reader in by_channel.values():
        reader.close()
    await store.close()
    return {
        "polled_reads": polled,
        "samples": samples,
        **{f"polls_{outcome}": count for outcome, count in sorted(outcomes.items())},
        "wall_seconds": wall,
        "cpu_ms_per_polled_read": 1000 * cpu / max(polled, 1),
        "listener_maxrss_mb": high_water_mb(),
    }


def high_water_mb() -> float:
    """This process's own peak RSS (``VmHWM``, its memory map's high-water mark). Not ``ru_maxrss``:
    Linux carries the forking parent's peak into it across ``execve`` (``exec_mmap`` keeps the old
    map's high-water mark in ``signal->maxrss``), so under pytest it reported pytest's 515 MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, required=True)
    parser.add_argument("--sandbox", required=True, help="the sandbox's base URL")
    args = parser.parse_args()
    os.environ.setdefault("LOA_MODE", "development")
    print(json.dumps(asyncio.run(main(args.posts, args.sandbox))))
