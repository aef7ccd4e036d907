"""A publisher process freezes its start-up heap once it has started (``loa.serving``, issue #20):
its modules, schemas and app are left out of every later garbage collection."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from loa.settings import REPO_ROOT, LoaSettings
from services.webhook.settings import WebhookSettings
from tests.e2e.support import create_topics, environment, fast_settings

pytestmark = pytest.mark.e2e

FROZEN = re.compile(r"start-up heap frozen: (\d+) objects")


async def test_a_started_publisher_froze_its_start_up_heap(settings: LoaSettings, tmp_path: Path) -> None:
    webhook = fast_settings(settings, WebhookSettings, tmp_path)
    await create_topics(webhook)
    log = tmp_path / "publisher.log"
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.webhook",
            cwd=REPO_ROOT,
            env=environment(webhook) | {"LOA_LOG_LEVEL": "INFO"},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not FROZEN.search(log.read_text(encoding="utf-8")):
            assert proc.returncode is None, log.read_text(encoding="utf-8")[-4000:]
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")[-4000:]
            await asyncio.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    text = log.read_text(encoding="utf-8")
    frozen = FROZEN.search(text)
    assert frozen is not None
    assert int(frozen.group(1)) > 50_000  # the publisher's imports alone hold ~130,000 tracked objects
    # frozen after it started: its broker, dispatcher and HTTP server are in the heap it froze
    assert text.index("publisher webhook started") < frozen.start()
    assert code == 0, text[-4000:]  # and it still stops cleanly
