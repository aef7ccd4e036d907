"""SIGKILL right after the platform accepted a post: after a restart, still exactly one post. And
the same held answer outlasting the adapter's timeout: in doubt, found, never posted twice.

Each channel's real publisher runs as a subprocess (``python -m services.<channel>``, so the kill is
a real SIGKILL) on real Kafka and MinIO, with its SQLite job store under the test's tmp_path; the
three channels run side by side in each test (~13 s each, against ~38 s one after another). The
sandbox runs in this process (uvicorn in a thread): an ``after`` fault lets the emulator create the
post and then holds its answer. While it is held the emulator has the post and the job store says
``publishing``; the publisher is killed, started again, and must find the post instead of posting
it again (issue 7: "a SIGKILL right after the emulator accepted a post → no second post").
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from loa.events import Content
from loa.media import MediaStore
from loa.publisher.accounts import AccountStore, load_cipher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.settings import REPO_ROOT, LoaSettings
from services.facebook.settings import FacebookSettings
from services.sandbox import facebook as graph
from services.sandbox import x as x_emulator
from services.sandbox import zalo as zalo_emulator
from services.sandbox.client import SandboxClient
from services.sandbox.frame import Fault
from services.sandbox.frame import sandbox as sandbox_state
from services.x.settings import XSettings
from services.zalo.settings import ZaloSettings
from tests.e2e.support import (
    PUBLISHED_PATH,
    S,
    approved,
    article,
    create_topics,
    environment,
    fast_settings,
    jpeg,
    put_media,
)
from tests.integration.publisher.publisher_helpers import Watcher, send_content

pytestmark = pytest.mark.e2e

ACCOUNT = "ubnd-ha-noi"
HOLD_MS = 4000
"""How long the emulator holds its answer after creating the post: the kill lands in between."""


@dataclass
class Channel:
    """What differs per channel: its settings, an account in the emulator, where posts are seen."""

    name: str
    settings: PublisherSettings
    credentials: dict[str, str]
    options: dict[str, Any]
    hold_path: str
    """The call that creates the post (the one whose answer is held)."""
    posts: Callable[[], list[str]]
    """Ids of this account's posts on the emulator, oldest first (a thread counts once)."""
    texts: Callable[[], list[str]]
    """The text of everything the account has on the emulator (a thread's every part)."""
    resumes: bool = False
    """The held call made only part of the post (an X thread's first part): the rest goes out as
    a second attempt after the restart; else the post is found whole and attempt 1 stands."""


def facebook(sandbox_url: str, base: LoaSettings, tmp: Path) -> Channel:
    page = {"id": str(300_000_000_000_000 + uuid.uuid4().int % 10**12), "token": f"EAAG{uuid.uuid4().hex}"}
    httpx.post(f"{sandbox_url}/graph/_sandbox/pages", json=page | {"name": "UBND Hà Nội"}).raise_for_status()
    return Channel(
        "facebook",
        fast_settings(base, FacebookSettings, tmp, facebook_graph_url=f"{sandbox_url}/graph"),
        {"page_access_token": page["token"]},
        {"page_id": page["id"]},
        hold_path=f"/{page['id']}/photos",
        posts=lambda: [p.id for p in graph.state().posts.values() if p.page_id == page["id"]],
        texts=lambda: [p.message for p in graph.state().posts.values() if p.page_id == page["id"]],
    )


def x(sandbox_url: str, base: LoaSettings, tmp: Path) -> Channel:
    user_id = str(7000 + uuid.uuid4().int % 10**6)
    keys = {
        k: f"{k}-{uuid.uuid4().hex}"
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    account = {"id": user_id, "username": f"ubnd{user_id}", **keys}
    httpx.post(f"{sandbox_url}/x/_accounts", json=account).raise_for_status()
    return Channel(
        "x",
        fast_settings(base, XSettings, tmp, x_api_url=f"{sandbox_url}/x"),
        keys,
        {},
        hold_path="/2/tweets",
        # The thread's first post: the delivery's external id.
        posts=lambda: [
            t["id"]
            for t in x_emulator.state.tweets.values()
            if t["author_id"] == user_id and t["in_reply_to_tweet_id"] is None
        ],
        texts=lambda: [t["text"] for t in x_emulator.state.tweets.values() if t["author_id"] == user_id],
        resumes=True,  # the sample article is a two-part thread; the first part's answer is held
    )


def zalo(sandbox_url: str, base: LoaSettings, tmp: Path) -> Channel:
    oa_id = f"ubnd-{uuid.uuid4().hex[:8]}"
    app = {"app_id": uuid.uuid4().hex[:12], "secret_key": uuid.uuid4().hex, "oa_id": oa_id}
    pair = httpx.post(f"{sandbox_url}/zalo/_apps", json=app).json()
    sandbox_state.processing_checks["zalo"] = 0  # the first `verify` answers the article's id
    settings = fast_settings(
        base,
        ZaloSettings,
        tmp,
        zalo_openapi_url=f"{sandbox_url}/zalo/openapi",
        zalo_oauth_url=f"{sandbox_url}/zalo/oauth",
    )
    return Channel(
        "zalo",
        settings,
        {"app_id": app["app_id"], "secret_key": app["secret_key"]}
        | {k: pair[k] for k in ("access_token", "refresh_token")},
        {},
        # Zalo makes the article at `create` (verify only reveals its id): its token is held, so
        # find_existing must find the article by the getslice search.
        hold_path="/article/create",
        posts=lambda: [a["id"] for a in zalo_emulator.state.articles.values() if a["oa_id"] == oa_id],
        texts=lambda: [
            a["description"] for a in zalo_emulator.state.articles.values() if a["oa_id"] == oa_id
        ],
    )


CHANNELS: dict[str, Callable[[str, LoaSettings, Path], Channel]] = {
    "facebook": facebook,
    "x": x,
    "zalo": zalo,
}


class PublisherProcess:
    """``python -m services.<channel>`` with the test's settings; its output goes to ``log``."""

    def __init__(self, channel: Channel, log: Path) -> None:
        self.channel = channel
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PublisherProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.channel.name}"],
            cwd=REPO_ROOT,
            env=environment(self.channel.settings),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def channels(
    sandbox: SandboxClient, sandbox_url: str, settings: LoaSettings, tmp_path: Path
) -> list[Channel]:
    """Every channel, each with its own job store: a test runs them side by side (each holds its
    own platform's answer), so the suite waits for the slowest, not for the sum."""
    made = []
    for name, make in sorted(CHANNELS.items()):
        (tmp_path / name).mkdir()
        made.append(make(sandbox_url, settings, tmp_path / name))
    return made


@pytest.fixture
async def watcher(channels: list[Channel]) -> AsyncIterator[Watcher]:
    await create_topics(channels[0].settings)  # the test's topics, the same for every channel
    w = await Watcher(channels[0].settings).start()
    yield w
    await w.stop()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[PublisherProcess]]:
    started: list[PublisherProcess] = []
    yield started
    for proc in started:
        proc.stop()


async def seed_account(channel: Channel) -> None:
    engine = make_engine(channel.settings.job_store_url(channel.name))
    try:
        await migrate(engine)
        accounts = AccountStore(engine, channel.name, load_cipher(channel.settings))
        await accounts.add(ACCOUNT, channel.credentials, channel.options)
    finally:
        await engine.dispose()


async def stored_state(channel: Channel, cid: str) -> S:
    engine = make_engine(channel.settings.job_store_url(channel.name))
    try:
        async with engine.connect() as conn:
            [job] = await JobStore(engine, channel.name).versions(conn, cid, ACCOUNT)
        return job.state
    finally:
        await engine.dispose()


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def sample(channel: Channel, media: MediaStore) -> Content:
    photo = put_media(media, jpeg(), "image/jpeg", alt="Trụ sở Trung tâm phục vụ hành chính công")
    return article(channel.name, ACCOUNT, [photo])


async def _sent_while_held(
    channel: Channel, processes: list[PublisherProcess], media: MediaStore, home: Path
) -> tuple[Content, PublisherProcess]:
    """The account seeded, the platform set to hold its answer after making the post, the channel's
    publisher started (its output in ``home``; in ``processes``, stopped at the end), and a sample
    content sent to it."""
    await seed_account(channel)
    c = sample(channel, media)
    sandbox_state.plan(Fault(channel.name, status=0, latency_ms=HOLD_MS, path=channel.hold_path, after=True))
    publisher = PublisherProcess(channel, home / "publisher.log").start()
    processes.append(publisher)
    await send_content(channel.settings, approved(c))
    return c, publisher


async def test_sigkill_while_the_platform_holds_its_answer_leaves_exactly_one_post(
    channels: list[Channel],
    watcher: Watcher,
    processes: list[PublisherProcess],
    media: MediaStore,
    tmp_path: Path,
) -> None:
    await asyncio.gather(
        *(_killed_while_held(ch, watcher, processes, media, tmp_path / ch.name) for ch in channels)
    )


async def _killed_while_held(
    channel: Channel, watcher: Watcher, processes: list[PublisherProcess], media: MediaStore, home: Path
) -> None:
    c, first = await _sent_while_held(channel, processes, media, home)
    did, log = f"{c.id}:{channel.name}:{ACCOUNT}", first.log

    # The emulator has the post; the publisher has not heard so: its job is `publishing`.
    await until(lambda: bool(channel.posts()), 45, f"{channel.name}: the emulator creating the post")
    assert await stored_state(channel, c.id) is S.PUBLISHING
    await watcher.until_state(did, S.PUBLISHING, timeout=HOLD_MS / 2000)  # the outbox sent it too
    first.kill()
    [post_id] = channel.posts()
    assert watcher.states(did)[-1] is S.PUBLISHING, f"{channel.name}: the held answer came before the kill"

    processes.append(PublisherProcess(channel, log).start())
    try:
        last = await watcher.until_state(did, S.PUBLISHED, timeout=45)
    except AssertionError:
        raise AssertionError(f"{channel.name}: {watcher.states(did)}\n{log.read_text()[-4000:]}") from None

    assert channel.posts() == [post_id], f"{channel.name}: posted again after the restart"
    texts = channel.texts()
    assert len(texts) == len(set(texts)), f"{channel.name}: a text went out twice: {texts}"
    assert last.external_id == post_id
    if channel.resumes:  # the rest of the thread, after the part already there
        assert len(texts) > 1
        assert last.attempt == 2
        assert watcher.states(did) == [*PUBLISHED_PATH[:-1], S.RETRYING, S.PUBLISHING, S.PUBLISHED]
    else:  # found on the platform, not published a second time
        assert last.attempt == 1
        assert watcher.states(did) == PUBLISHED_PATH, f"{channel.name}: {watcher.states(did)}"
    assert await stored_state(channel, c.id) is S.PUBLISHED


TIMEOUT_S = 1.0
"""The adapter's timeout in the in-doubt test: shorter than ``HOLD_MS``, so its call times out after
the emulator made the post."""


async def test_a_timeout_while_the_platform_holds_its_answer_is_in_doubt_and_found(
    channels: list[Channel],
    watcher: Watcher,
    processes: list[PublisherProcess],
    media: MediaStore,
    tmp_path: Path,
) -> None:
    """The publish call times out after the emulator made the post (``TransientError(in_doubt=True)``):
    the runtime asks ``find_existing`` before any new attempt and records what it finds."""
    await asyncio.gather(
        *(_timed_out_while_held(ch, watcher, processes, media, tmp_path / ch.name) for ch in channels)
    )


async def _timed_out_while_held(
    channel: Channel, watcher: Watcher, processes: list[PublisherProcess], media: MediaStore, home: Path
) -> None:
    timed = replace(
        channel, settings=channel.settings.model_copy(update={f"{channel.name}_timeout_s": TIMEOUT_S})
    )
    c, publisher = await _sent_while_held(timed, processes, media, home)
    did, log = f"{c.id}:{timed.name}:{ACCOUNT}", publisher.log
    try:
        last = await watcher.until_state(did, S.PUBLISHED, timeout=60)
    except AssertionError:
        raise AssertionError(f"{timed.name}: {watcher.states(did)}\n{log.read_text()[-4000:]}") from None
    [post_id] = timed.posts()
    texts = timed.texts()
    assert len(texts) == len(set(texts)), f"{timed.name}: a text went out twice: {texts}"
    assert last.external_id == post_id
    assert S.FAILED not in watcher.states(did)
