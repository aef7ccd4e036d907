"""Issue #18's acceptance with the sample on every channel, on the real stack: the sample press release
(samples/thong-cao-bao-chi.md, the one ``make run`` publishes), read as ``loa publish`` reads it, is
uploaded and submitted through the ingest API and goes out on every channel it targets (website,
Facebook, Zalo, X, YouTube, TikTok, the e-mail press list) and on the office's webhook, which the
sample does not name but is one of Loa's channels; the sandbox plays the misinformation scenario; the
watch raises an alert within one polling cycle on the channels with comments (Facebook, YouTube, X);
an operator replies and hides there through the tracker's API; readers open the article on the
website, whose server counts the views; the day's report has a row per channel with the post's
figures, and says it has none (no figure, not a zero) on the channels no listener reads.

Kafka, MinIO, Mailpit (the e-mail's SMTP server) and SQLite stores; the publishers, the ingest, the
tracker, the listeners and the website server in this process; the sandbox as in
``comment_acceptance_steps``. The content id gets a suffix per run: the website's page (and its
count of views in MinIO) is named by it.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from loa.cli.article import load_article
from loa.cli.publish import upload_media
from loa.events import DeliveryState
from loa.settings import REPO_ROOT, LoaSettings
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings
from services.sandbox import tiktok as tiktok_emulator
from services.sandbox import zalo as zalo_emulator
from services.sandbox.client import SandboxClient
from tests.channels.email.mail import CONTACT, DOMAIN, contacts
from tests.channels.email.test_email_mailpit import SMTP_PORT, arrived
from tests.channels.youtube.support import TlsSandbox
from tests.e2e.comment_acceptance_steps import (
    COMMENTED,
    fast_sandbox,
    listener_settings,
    listening,
    readers_on_the_sandbox,
    reply_and_hide,
    todays_report,
    until_alerted,
    until_published,
)
from tests.e2e.incident_drill_stage import CMS, _facebook, _website, _x, _zalo, running_ingest
from tests.e2e.support import (
    WEBHOOK_ACCOUNT,
    ChannelRun,
    StartRun,
    WebhookRun,
    fast_settings,
    tiktok_run,
    youtube_run,
)
from tests.integration.tracker.support import create_topics, eventually, running_tracker, tracker_settings
from tests.integration.tracker.test_listener_website_views import declared_readers
from tests.website_support import BROWSER, counting_server, make_media, views_tokens

pytestmark = pytest.mark.e2e
SAMPLE = REPO_ROOT / "samples" / "thong-cao-bao-chi.md"
READERS = 3
"""Readers who open the article on the website: its page views in the report."""
WITHOUT_FIGURES = ("zalo", "tiktok", "email", "webhook")
"""Channels the listener has no reader for (pyproject.toml's ``loa.engagement`` entry points; Zalo and
TikTok: services/listener/README.md, services/tiktok/README.md; e-mail and the webhook have no
audience to count): their report rows have no figures."""


def email_run(base: LoaSettings, tmp: Path, account: str, tag: str) -> ChannelRun:
    """The e-mail publisher (not started) on the stack's Mailpit, ``account`` a press list of three
    journalists whose addresses carry ``tag``."""
    settings = fast_settings(
        base,
        EmailSettings,
        tmp,
        email_smtp_port=SMTP_PORT,
        email_from=f"Văn phòng Bộ <thongcao@{DOMAIN}>",
        email_messages_per_second=1000,
    )
    options = {"recipients": contacts(READERS, tag), "contact": CONTACT}
    return ChannelRun(EmailAdapter, settings, {account: ({}, options)})


def publisher_runs(
    base: LoaSettings, tmp: Path, accounts: dict[str, str], sandbox_url: str, tls: TlsSandbox, tag: str
) -> list[ChannelRun]:
    """The sample's channels' publishers, not started, each with its job store in its own folder."""
    folders = {channel: tmp / channel for channel in accounts}
    for folder in folders.values():
        folder.mkdir()
    return [
        _website(base, folders["website"], accounts["website"]),
        _facebook(base, folders["facebook"], sandbox_url, accounts["facebook"]),
        _zalo(base, folders["zalo"], sandbox_url, accounts["zalo"]),
        _x(base, folders["x"], sandbox_url, accounts["x"]),
        youtube_run(base, folders["youtube"], tls, accounts["youtube"]),
        tiktok_run(base, folders["tiktok"], sandbox_url, accounts["tiktok"]),
        email_run(base, folders["email"], accounts["email"], tag),
    ]


def submit_sample(ingest_url: str, token: str, suffix: str) -> tuple[str, dict[str, Any]]:
    """What ``loa publish samples/thong-cao-bao-chi.md`` does, plus the webhook target: the media
    uploaded, then the content submitted. Its id and the submitted payload."""
    sample = load_article(SAMPLE)
    with httpx.Client(base_url=ingest_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        media = upload_media(c, sample.media)
        payload = sample.payload | {
            "id": f"{sample.payload['id']}-{suffix}",
            "media": media,
            "targets": [*sample.payload["targets"], {"channel": "webhook", "account": WEBHOOK_ACCOUNT}],
        }
        answer = c.post("/api/v1/contents", json={"payload": payload})
        assert answer.status_code in (200, 201, 202), answer.text
    return str(payload["id"]), payload


async def test_the_sample_goes_out_everywhere_is_watched_answered_hidden_and_reported_per_channel(
    settings: LoaSettings,
    tmp_path: Path,
    sandbox: SandboxClient,
    sandbox_url: str,
    tls_sandbox: TlsSandbox,
    webhook_run: WebhookRun,
    start_run: StartRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await create_topics(settings)
    fast_sandbox()
    sample = load_article(SAMPLE)
    unit = str(sample.payload["unit"])
    accounts = {t["channel"]: t["account"] for t in sample.payload["targets"]}
    tag = uuid.uuid4().hex[:8]
    runs = publisher_runs(settings, tmp_path, accounts, sandbox_url, tls_sandbox, tag)
    await asyncio.gather(*(start_run(r) for r in runs))
    every_channel = (*accounts, "webhook")
    readers_on_the_sandbox(monkeypatch, sandbox_url, tls_sandbox)
    monkeypatch.setattr("services.listener.app.load_readers", declared_readers)
    access = f"sqlite+aiosqlite:///{tmp_path / 'access.db'}"
    monkeypatch.setenv("LOA_WEBSITE_VIEWS_TOKEN", (await views_tokens(access))["listener"])
    site, _ = counting_server(make_media(settings), access, flush_s=0.5)
    monkeypatch.setenv("LOA_WEBSITE_VIEWS_URL", site.url)
    ts = tracker_settings(settings, f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    ingest_accounts = accounts | {"webhook": WEBHOOK_ACCOUNT}
    with running_ingest(settings, tmp_path, ingest_accounts, unit) as ingest, site:
        async with running_tracker(ts) as (_, client):
            content_id, payload = await asyncio.to_thread(submit_sample, ingest.url, ingest.tokens[CMS], tag)
            await until_published(client, content_id, every_channel)

            website = next(r for r in runs if r.channel == "website")
            page = await website.until_state(content_id, accounts["website"], DeliveryState.PUBLISHED)
            for _ in range(READERS):
                opened = await asyncio.to_thread(httpx.get, f"{site.url}{page.external_id}", headers=BROWSER)
                assert opened.status_code == 200 and "chuyển đổi số" in opened.text

            listened = [r for r in runs if r.channel in (*COMMENTED, "website")]
            async with listening([listener_settings(settings, r, tmp_path / r.channel) for r in listened]):
                await until_alerted(client, content_id, COMMENTED)
                await reply_and_hide(client, content_id, COMMENTED)

                async def counted() -> bool:
                    row = (await todays_report(client, unit)).get("website", {})
                    return row.get("audience") == READERS

                await eventually(counted, within=30, what="the website's page views in the day's report")
                by_channel = await todays_report(client, unit)

    assert every_row_published(by_channel, every_channel)
    for channel in COMMENTED:
        row = by_channel[channel]
        assert row["audience"] and row["comments"] and row["posts_with_figures"] == 1, row
        assert row["alerts"] >= 1 and row["comments_answered"] >= 2, row
    assert by_channel["website"]["audience_metric"] == "views", by_channel["website"]
    for channel in WITHOUT_FIGURES:
        row = by_channel[channel]
        figures = [row[k] for k in ("audience_metric", "audience", "reactions", "comments", "shares")]
        assert figures == [None] * 5 and row["posts_with_figures"] == 0, row

    # delivered, as each platform holds it: the sample's own words and media
    title = str(payload["title"])
    [zalo_article] = zalo_emulator.state.articles.values()
    assert zalo_article["title"] == title[: len(zalo_article["title"])] and "Đường dây nóng" in str(
        zalo_article["body"]
    )
    [tiktok_post] = tiktok_emulator.state.posts.values()
    assert tiktok_post["title"].startswith(title[:40])
    assert len(arrived(tag)) == READERS
    [delivered] = sandbox.webhook_live(webhook_run.endpoint)
    assert delivered["payload"]["title"] == title


def every_row_published(by_channel: dict[str, dict[str, Any]], channels: tuple[str, ...]) -> bool:
    """Every channel has its row: the one delivery published, none failed."""
    assert set(by_channel) == set(channels), sorted(by_channel)
    for channel in channels:
        row = by_channel[channel]
        assert (row["deliveries"], row["published"], row["failed"]) == (1, 1, 0), row
    return True
