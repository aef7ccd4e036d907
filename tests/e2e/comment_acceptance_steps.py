"""The steps of issue #18's acceptance that every variant of it takes (``test_comment_acceptance.py``
on the channels with comments, ``test_acceptance_every_channel.py`` with the sample on every channel):
the listeners on the publishers' job stores, the watch's alerts, an operator's reply and hide through
the tracker's API, and the day's report.

The sandbox runs ten simulated minutes per second (``fast_sandbox``): the misinformation burst comes
an hour after the post, six seconds of clock; the listeners poll at 2 s and 12 s, then every 4 s.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from loa.events import DEFAULT_TIMEZONE
from loa.events.envelope import utcnow
from loa.settings import LoaSettings
from services.listener.settings import ListenerSettings
from services.sandbox import citizen_comments
from services.sandbox import engagement as simulation
from services.sandbox.facebook_comments import hidden as facebook_hidden
from services.sandbox.x_replies import hidden as x_hidden
from services.sandbox.youtube_comments import held
from tests.channels.youtube.support import TlsSandbox
from tests.e2e.support import ChannelRun
from tests.integration.tracker.support import auth, eventually
from tests.integration.tracker.test_listener_flow import running_listener

COMMENTED = ("facebook", "youtube", "x")
"""The channels whose comments the inbox reads and acts on."""
REPLY = "Chào anh/chị, đăng ký tại trạm y tế phường, không thu phí. Sở Y tế Đà Nẵng."


def fast_sandbox() -> None:
    """The sandbox (reset by its fixture) at ten simulated minutes a second, playing the
    misinformation scenario: 25 comments with a false claim an hour after each post, over ten minutes."""
    simulation.simulation.speed = 600.0
    simulation.play("misinformation", {"after_s": 3600, "count": 25, "spread_s": 600})


def listener_settings(base: LoaSettings, run: ChannelRun, tmp: Path) -> ListenerSettings:
    """One channel's listener on its publisher's job store (its accounts and key), polling at 2 s, 12 s,
    then every 4 s (40 simulated minutes)."""
    channel = run.channel
    return ListenerSettings(
        mode="development",
        kafka_bootstrap=base.kafka_bootstrap,
        topic_prefix=base.topic_prefix,
        channels=channel,
        credentials_key=run.settings.credentials_key,
        publisher_database_url=run.settings.publisher_database_url,
        listener_database_url=f"sqlite+aiosqlite:///{tmp / f'listener-{channel}.db'}",
        listener_group_id=f"loa-listener-{channel}-{base.topic_prefix.strip('.')}",
        listener_schedule="2s,12s",
        listener_comment_schedule="2s,12s",
        listener_then_every="4s",  # polls on: a post with few comments gets its first citizen's question
        listener_follow_for="1d",
        listener_idle_s=0.2,
    )


@contextlib.asynccontextmanager
async def listening(settings: list[ListenerSettings]) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for s in settings:
            await stack.enter_async_context(running_listener(s))
        yield


async def deliveries(client: httpx.AsyncClient, content_id: str) -> dict[str, str]:
    """The content's delivery state on each channel, as the tracker shows it."""
    found = await client.get(f"/api/v1/contents/{content_id}", headers=auth("viewer"))
    if found.status_code != 200:
        return {}
    return {d["channel"]: d["state"] for d in found.json()["deliveries"]}


async def until_published(client: httpx.AsyncClient, content_id: str, channels: Iterable[str]) -> None:
    expected = dict.fromkeys(channels, "published")

    async def published() -> bool:
        return await deliveries(client, content_id) == expected

    try:
        await eventually(published, within=90, what=f"the content published on {', '.join(expected)}")
    except AssertionError as e:  # say where each delivery stands by the end
        raise AssertionError(f"{e}; now: {await deliveries(client, content_id)}") from None


async def until_alerted(client: httpx.AsyncClient, content_id: str, channels: Iterable[str]) -> None:
    """Until the watch raised an alert on the content's post on each of ``channels``."""
    wanted = set(channels)

    async def alerted_everywhere() -> bool:
        alerts = (await client.get("/api/v1/watch/alerts", headers=auth("viewer"))).json()
        return {a["channel"] for a in alerts if a["content_id"] == content_id} >= wanted

    await eventually(alerted_everywhere, within=40, what="the watch's alert on every channel")


async def inbox(client: httpx.AsyncClient, content_id: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/comments", params={"content": content_id}, headers=auth("viewer"))
    return list(answer.json())


async def reply_and_hide(client: httpx.AsyncClient, content_id: str, channels: tuple[str, ...]) -> None:
    """On each channel an operator answers a citizen's question and hides a false claim through the
    tracker's API; checks that each publisher carried both out on its platform."""

    async def both_in() -> bool:
        """The alert may come from a poll that had not yet brought a citizen's question."""
        comments = await inbox(client, content_id)
        return all(
            any(c["text"] in citizen_comments.ORGANIC for c in mine) and any(c["matched"] for c in mine)
            for mine in ([c for c in comments if c["channel"] == ch] for ch in channels)
        )

    await eventually(both_in, within=30, what="a question and a false claim in the inbox on every channel")
    comments = await inbox(client, content_id)
    for channel in channels:
        mine = [c for c in comments if c["channel"] == channel]
        question = next(c for c in mine if c["text"] in citizen_comments.ORGANIC)
        claim = next(c for c in mine if c["matched"])
        answered = await client.post(
            f"/api/v1/comments/{question['id']}/reply", json={"text": REPLY}, headers=auth("operator")
        )
        assert answered.status_code == 202, answered.text
        hid = await client.post(f"/api/v1/comments/{claim['id']}/hide", headers=auth("operator"))
        assert hid.status_code == 202, hid.text

    async def settled() -> bool:
        acted = [c for c in await inbox(client, content_id) if c["action_state"]]
        return len(acted) == 2 * len(channels) and all(c["action_state"] == "done" for c in acted)

    await eventually(settled, within=40, what="the publishers' outcomes of the replies and hides")
    acted = [c for c in await inbox(client, content_id) if c["action_state"]]
    assert sorted((c["channel"], c["state"]) for c in acted) == sorted(
        (c, s) for c in channels for s in ("answered", "hidden")
    )
    assert all(c["reply_text"] == REPLY for c in acted if c["state"] == "answered")
    hidden_ids = {c["channel"]: c["external_id"] for c in acted if c["state"] == "hidden"}
    on_platform = {"facebook": facebook_hidden(), "youtube": held(), "x": x_hidden}
    for channel in channels:
        assert hidden_ids[channel] in on_platform[channel], channel


async def todays_report(client: httpx.AsyncClient, unit: str) -> dict[str, dict[str, Any]]:
    """The report for today (the office's day) of ``unit``: its row on each channel."""
    today = utcnow().astimezone(DEFAULT_TIMEZONE).date()
    days = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    report = await client.get("/api/v1/reports", params=days, headers=auth("viewer"))
    assert report.status_code == 200, report.text
    return {r["channel"]: r for r in report.json()["rows"] if r["unit"] == unit}


def readers_on_the_sandbox(monkeypatch: pytest.MonkeyPatch, sandbox_url: str, tls: TlsSandbox) -> None:
    """The listeners' readers take the platforms' URLs from the environment, as in production."""
    monkeypatch.setenv("LOA_FACEBOOK_GRAPH_URL", f"{sandbox_url}/graph")
    monkeypatch.setenv("LOA_X_API_URL", f"{sandbox_url}/x")
    monkeypatch.setenv("LOA_YOUTUBE_API_URL", tls.url)
    monkeypatch.setenv("LOA_YOUTUBE_TOKEN_URL", f"{tls.url}/token")
    monkeypatch.setenv("LOA_YOUTUBE_CA_CERTS", str(tls.tls.ca_pem))
