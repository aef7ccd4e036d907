"""Listener bench: 10,000 followed posts all due at once, through the real poller, store and readers.

Each post has its two reads due, the figures and the comments (each on its own schedule in the
listener; here they coincide, the worst case): 20,000 reads.

The posts are split over Facebook (Pages), YouTube (one Google project) and X (accounts) and all
fall due together, the worst a day of publishing can do. The real ``Poller`` claims them from a
SQLite store and reads each through its channel's reader (facebook-sdk, google-api-python-client,
tweepy) against the sandbox served in this process; the samples go to a counter, not to Kafka (the
listener's path to Kafka is one ``publish`` per reading, measured by the tracker's benches). The
bench stops when a claim finds nothing due (every post read or deferred past its platform's limit).

Checked against each platform's window as the sandbox emulates it: Facebook's hourly call budget
per Page (the listener stops at 75 % of it), the listener's share of the YouTube project's daily
units, X's requests per 15 minutes per user for the lookup endpoint and for recent search (the
replies). Also: peak RSS and CPU time per polled read (reads and deferrals), and what one post
costs over its whole life on the default schedules (``lifetime_*``: reads, Graph calls, YouTube
units, X requests).

    PYTHONPATH=shared:. python bench/listener.py --posts 10000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

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
from services.sandbox import facebook as fb
from services.sandbox import x as xs
from services.sandbox import youtube_state as yt
from services.sandbox.facebook import HOURLY_CALL_BUDGET
from services.sandbox.frame import sandbox
from services.x.engagement import XEngagement
from services.x.settings import XSettings
from services.youtube.engagement import YouTubeEngagement
from services.youtube.settings import YouTubeSettings
from tests.sandbox_fixtures import ServerThread

RESULTS = Path(__file__).parent / "results"
PAGES, X_ACCOUNTS = 2, 10
YOUTUBE_SHARE = 2000
REFRESH = "1//bench-refresh"


class Accounts:
    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], Account] = {}

    async def get(self, channel: str, name: str) -> Account | None:
        return self.accounts.get((channel, name))


def seed_platforms(posts: int, accounts: Accounts) -> list[dict[str, object]]:
    """Posts on each emulator (in its state, as if published) and the listener's rows for them."""
    now, rows = sandbox.now(), []
    share = {"facebook": posts * 4 // 10, "youtube": posts * 3 // 10}
    share["x"] = posts - share["facebook"] - share["youtube"]
    for p in range(PAGES):
        page = fb.Page(f"90000000000{p}", f"Trang {p}", f"EAAG{uuid.uuid4().hex}")
        fb.state().pages[page.id] = page
        accounts.accounts[("facebook", f"trang-{p}")] = Account(
            "facebook", f"trang-{p}", {"page_access_token": Secret(page.token)}, {"page_id": page.id}
        )
    for i in range(share["facebook"]):
        page_id = f"90000000000{i % PAGES}"
        post = fb.GraphPost(f"{page_id}_{i}", page_id, "status", f"Thông báo số {i} của Sở", now)
        fb.state().posts[post.id] = post
        rows += _rows(f"fb-{i}", "facebook", f"trang-{i % PAGES}", post.id)
    channel_id = yt.channel_of(REFRESH)
    accounts.accounts[("youtube", "kenh")] = Account(
        "youtube",
        "kenh",
        {
            k: Secret(v)
            for k, v in {"client_id": "bench", "client_secret": "s", "refresh_token": REFRESH}.items()
        },
    )
    for i in range(share["youtube"]):
        video = yt.Video(
            f"v{i:010d}",
            channel_id,
            {"title": "Họp báo", "description": ""},
            {"privacyStatus": "public", "uploadStatus": "processed"},
            1,
            hashlib.sha256(b"v").hexdigest(),
            now,
        )
        yt.state().videos[video.id] = video
        rows += _rows(f"yt-{i}", "youtube", "kenh", video.id)
    for a in range(X_ACCOUNTS):
        keys = {
            k: f"{k}-{a}-{uuid.uuid4().hex}"
            for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        }
        xs.state.users[keys["access_token"]] = xs.XUser(id=str(5000 + a), username=f"so{a}", **keys)
        accounts.accounts[("x", f"so-{a}")] = Account("x", f"so-{a}", {k: Secret(v) for k, v in keys.items()})
    for i in range(share["x"]):
        tweet_id = str(1_900_000_000_000_000_000 + i)
        author = str(5000 + i % X_ACCOUNTS)
        xs.state.tweets[tweet_id] = {
            "id": tweet_id,
            "text": f"Tin {i}",
            "author_id": author,
            "created_at": now.isoformat(),
        }
        rows += _rows(f"x-{i}", "x", f"so-{i % X_ACCOUNTS}", tweet_id)
    return rows


def _rows(content_id: str, channel: str, account: str, external_id: str) -> list[dict[str, object]]:
    """The post's two reads, both due now."""
    now = utcnow()
    return [
        {
            "content_id": content_id,
            "version": 1,
            "channel": channel,
            "account": account,
            "external_id": external_id,
            "published_at": now - timedelta(minutes=10),
            "step": 0,
            "next_poll_at": now,
            "kind": kind.value,
        }
        for kind in Read
    ]


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


async def main(posts: int) -> dict[str, float | int | bool]:
    server = ServerThread("services.sandbox.app:app").start()
    sandbox.reset()
    work = Path(tempfile.mkdtemp(prefix="loa-bench-listener-"))
    settings = ListenerSettings(
        mode="development",
        listener_database_url=f"sqlite+aiosqlite:///{work / 'listener.db'}",
        listener_youtube_daily_units=YOUTUBE_SHARE,
        listener_concurrency=16,
        listener_batch=200,
    )
    store = await FollowedStore.open(settings.listener_database_url)
    accounts = Accounts()
    rows = seed_platforms(posts, accounts)
    async with store.engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            await conn.execute(insert(followed), rows[start : start + 1000])
    readers: dict[str, EngagementReader] = {
        "facebook": FacebookEngagement(
            FacebookSettings(mode="development", facebook_graph_url=f"{server.url}/graph")
        ),
        "youtube": YouTubeEngagement(
            YouTubeSettings(
                mode="development", youtube_api_url=server.url, youtube_token_url=f"{server.url}/token"
            ),
            daily_units=YOUTUBE_SHARE,
        ),
        "x": XEngagement(XSettings(mode="development", x_api_url=f"{server.url}/x")),
    }
    samples = 0

    async def emit(_: Engagement | Comments) -> None:
        nonlocal samples
        samples += 1

    poller = Poller(settings, store, readers, accounts, emit)
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
    fb_calls = max(len(p.calls) for p in fb.state().pages.values())
    x_calls = max(w.used for (user, endpoint), w in xs.state.windows.items() if endpoint == "lookup")
    x_searches = max(
        (w.used for (user, endpoint), w in xs.state.windows.items() if endpoint == "search"), default=0
    )
    x_limit = xs.state.tweet_window[0]
    figures: dict[str, float | int | bool] = {
        "followed_posts": posts,
        "polled_reads": polled,
        "samples": samples,
        **{f"polls_{outcome}": count for outcome, count in sorted(outcomes.items())},
        "facebook_calls_max_per_page_hour": fb_calls,
        "facebook_limit_per_page_hour": HOURLY_CALL_BUDGET,
        "youtube_units_used": yt.state().used("default"),
        "youtube_units_listener_share": YOUTUBE_SHARE,
        "x_calls_max_per_account_window": x_calls,
        "x_searches_max_per_account_window": x_searches,
        "x_limit_per_account_window": x_limit,
        "within_limits": fb_calls <= HOURLY_CALL_BUDGET
        and yt.state().used("default") <= YOUTUBE_SHARE
        and max(x_calls, x_searches) <= x_limit,
        "wall_seconds": wall,
        "cpu_ms_per_polled_read": 1000 * cpu / max(polled, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **lifetime(ListenerSettings(mode="development")),
    }
    for reader in readers.values():
        reader.close()
    await store.close()
    server.stop()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("LOA_MODE", "development")
    figures = asyncio.run(main(args.posts))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "listener.json").write_text(json.dumps(figures, indent=2) + "\n")
    units = {"seconds": "s", "mb": "MB", "ms_per_polled_read": "ms"}
    for name, value in figures.items():
        unit = next((u for suffix, u in units.items() if name.endswith(suffix)), "")
        print(f"{name}: {value:.3f} {unit}".rstrip() if isinstance(value, float) else f"{name}: {value}")
