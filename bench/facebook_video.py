"""A 300 MB video to a Facebook Page: resumable upload streamed from real MinIO, peak RSS growth measured.

Runs the Graph API emulator in its own process (so only the publisher side is measured), stores a
300 MB video in a fresh MinIO bucket, publishes it with the Facebook adapter, and checks the emulator
received every byte (sha256). Target: peak RSS growth of the publishing process under 100 MB.

    PYTHONPATH=shared:. /work/main/.venv/bin/python bench/facebook_video.py [--mb 300]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import httpx
import psutil

from loa.channels import Account, Secret
from loa.events import Content, MediaRef
from loa.media import MediaStore
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT
from loa.testing.ports import free_port
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from tests.channels.facebook.helpers import FakeContext

MB = 1024 * 1024


class Generated(IO[bytes]):
    """``size`` pseudo-random bytes, produced 1 MB at a time (never whole), hashed on the way."""

    def __init__(self, size: int) -> None:
        self.left, self.hash, self._block = size, hashlib.sha256(), os.urandom(MB)
        self._n = 0

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = MB if n is None or n < 0 else n
        out = bytearray()
        while len(out) < n and self.left > 0:
            self._n += 1
            block = self._n.to_bytes(8, "big") + self._block[8:]
            take = min(n - len(out), self.left, len(block))
            out += block[:take]
            self.left -= take
        self.hash.update(out)
        return bytes(out)


class PeakRss(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.proc, self.baseline, self.peak, self.running = psutil.Process(), 0, 0, True

    def run(self) -> None:
        self.baseline = self.peak = self.proc.memory_info().rss
        while self.running:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)


def main(size_mb: int) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": CHECKOUT_PYTHONPATH}
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.sandbox.app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
    )
    tag = uuid.uuid4().hex[:8]  # buckets of this run only, removed at the end
    settings = FacebookSettings(
        facebook_graph_url=f"http://127.0.0.1:{port}/graph",
        s3_media_bucket=f"bench-fb-{tag}",
        s3_website_bucket=f"bench-fb-web-{tag}",
    )
    context = FakeContext(settings)
    store: MediaStore = context.media
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/_sandbox/clock", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        page_id, token = "300000000000003", f"EAAG{uuid.uuid4().hex}"
        httpx.post(f"http://127.0.0.1:{port}/graph/_sandbox/pages", json={"id": page_id, "token": token})
        store.ensure_buckets()
        source = Generated(size_mb * MB)
        stored = store.put_stream(source, "video/mp4", size_mb * MB)
        account = Account("facebook", "bench", {"page_access_token": Secret(token)}, {"page_id": page_id})
        content = Content.model_validate(
            {
                "id": f"bench-{uuid.uuid4().hex[:8]}",
                "version": 1,
                "title": "Phóng sự: Chuyển đổi số ở vùng cao",
                "summary": "Video 300 MB tải lên theo từng phần từ kho media.",
                "unit": "Trung tâm Truyền thông",
                "approved_by": "Trần Văn Đức",
                "approved_at": datetime.now(UTC),
                "media": [
                    MediaRef(key=stored.key, sha256=stored.sha256, content_type="video/mp4", size=stored.size)
                ],
                "targets": [{"channel": "facebook", "account": "bench"}],
            }
        )
        adapter = FacebookAdapter(context, settings)
        post = asyncio.run(adapter.render(content, content.targets[0], account))
        monitor = PeakRss()
        monitor.start()
        time.sleep(0.1)
        started = time.monotonic()
        result = asyncio.run(adapter.publish(post, account))
        seconds = time.monotonic() - started
        monitor.running = False
        monitor.join()
        asyncio.run(adapter.aclose())
        records = httpx.get(
            f"http://127.0.0.1:{port}/_sandbox/records", params={"platform": "facebook", "kind": "video"}
        ).json()
        received = next(r["data"] for r in records if r["data"]["id"] == result.external_id)
        if received["sha256"] != stored.sha256 or received["size"] != stored.size:
            raise SystemExit(f"the emulator received other bytes: {received}")
        store.client.remove_object(store.bucket, stored.key)
        return {
            "facebook_video_mb": float(size_mb),
            "facebook_video_upload_seconds": round(seconds, 2),
            "facebook_video_throughput_mb_s": round(size_mb / seconds, 1),
            "facebook_video_rss_growth_mb": round((monitor.peak - monitor.baseline) / MB, 1),
            "facebook_video_chunks": float(len([p for p in context.saved if "video_upload" in p]) - 1),
        }
    finally:
        emulator.terminate()
        emulator.wait(10)
        for bucket in (store.bucket, store.website_bucket):
            try:
                for obj in store.client.list_objects(bucket, recursive=True):
                    store.client.remove_object(bucket, obj.object_name or "")
                store.client.remove_bucket(bucket)
            except Exception:
                pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    figures = main(parser.parse_args().mb)
    out = Path(REPO_ROOT / "bench" / "results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "facebook_video.json").write_text(json.dumps(figures, indent=2))
    units = {"mb": "MB", "seconds": "s", "mb_s": "MB/s", "chunks": "chunks"}
    for name, value in figures.items():
        unit = next((u for k, u in units.items() if name.endswith(k)), "")
        print(f"{name}: {value} {unit}")
