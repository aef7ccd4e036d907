"""X deliveries under realistic platform latency: wall time and round trips per delivery (issue #20,
"realistic platform latency"; docs/benchmarks.md, "X: round trips per delivery"):

    PYTHONPATH=shared:. python -m bench.x_round_trips [--latency-ms 300] [--deliveries 5]

The X adapter (tweepy over HTTP, as the publisher runs it) against the sandbox in its own process,
every X call held ``--latency-ms`` and a video answered "still processing" once (the e2e bench's
``realistic`` setting); media from the local stack's MinIO, in a bucket of the bench's own (dropped
after). Per kind of post — one photo, four photos, one video, a three-part thread — a fresh adapter
(a publisher just started) sends ``--deliveries`` posts on one account: the first delivery and the
median of the others, wall time of ``publish`` and the X calls the sandbox counted.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from PIL import Image

from loa.channels import Account, Secret
from loa.events import Content, MediaRef, Target
from loa.media import MediaStore
from loa.settings import CHECKOUT_PYTHONPATH, LoaSettings
from loa.testing.context import FakeContext
from loa.testing.ports import free_port
from services.sandbox.client import SandboxClient
from services.x.adapter import XAdapter
from services.x.settings import XSettings

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("photo", "photos4", "video", "thread")
SENTENCE = "Ủy ban nhân dân thành phố Đà Nẵng thông báo lịch tiếp công dân định kỳ tháng {n} năm 2026."


def start_sandbox() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": CHECKOUT_PYTHONPATH,
        "LOA_SANDBOX_PORT": str(port),
        "LOA_SANDBOX_TLS_PORT": "",
    }
    proc = subprocess.Popen([sys.executable, "-m", "services.sandbox"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sandbox/clock", timeout=2).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the sandbox did not start")


def x_account(url: str) -> Account:
    keys = {
        k: f"{k}-{uuid.uuid4().hex}"
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    user = {"id": "1859230000000000777", "username": "ubnddanang", **keys}
    httpx.post(f"{url}/x/_accounts", json=user).raise_for_status()
    httpx.post(f"{url}/x/_limits", params={"limit": 100_000, "seconds": 900}).raise_for_status()
    return Account(channel="x", name="ubnd-da-nang", credentials={k: Secret(v) for k, v in keys.items()})


def sample_media(store: MediaStore) -> dict[str, list[MediaRef]]:
    """Four distinct small JPEGs with alt text and one 256 KiB 'video' (one APPEND)."""
    images = []
    for i in range(4):
        out = io.BytesIO()
        Image.new("RGB", (640, 360), (40 * i, 90, 160)).save(out, "JPEG", quality=80)
        stored = store.put_stream(io.BytesIO(out.getvalue()), "image/jpeg", len(out.getvalue()))
        images.append(
            MediaRef(
                key=stored.key,
                sha256=stored.sha256,
                content_type="image/jpeg",
                size=stored.size,
                alt=f"Ảnh {i + 1}: trụ sở UBND",
            )
        )
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(256 * 1024 - 24)
    stored = store.put_stream(io.BytesIO(video), "video/mp4", len(video))
    clip = MediaRef(key=stored.key, sha256=stored.sha256, content_type="video/mp4", size=stored.size)
    return {"photo": images[:1], "photos4": images, "video": [clip], "thread": []}


def content(kind: str, n: int, media: list[MediaRef]) -> Content:
    summary = (
        SENTENCE.format(n=n)
        if kind != "thread"
        else " ".join(SENTENCE.format(n=f"{n}.{i}") for i in range(6))
    )
    return Content(
        id=f"xrt-{kind}-{uuid.uuid4().hex[:8]}",
        version=1,
        title="Lịch tiếp công dân",
        summary=summary,
        unit="Văn phòng UBND thành phố",
        approved_by="Nguyễn Thị Đào",
        approved_at=datetime.now(UTC),
        media=media,
        targets=[Target(channel="x", account="ubnd-da-nang")],
    )


async def deliveries(
    kind: str,
    count: int,
    url: str,
    store: MediaStore,
    account: Account,
    media: list[MediaRef],
    sandbox: SandboxClient,
) -> list[tuple[float, int]]:
    """(wall seconds of ``publish``, X calls) of each delivery, on a fresh adapter."""
    adapter = XAdapter(FakeContext(store), XSettings(x_api_url=f"{url}/x"))
    out = []
    try:
        for n in range(count):
            item = content(kind, n, media)
            post = await adapter.render(item, item.targets[0], account)
            before = sandbox.stats().get("x", {}).get("requests", 0)
            started = time.monotonic()
            await adapter.publish(post, account)
            took = time.monotonic() - started
            out.append((took, sandbox.stats()["x"]["requests"] - before))
    finally:
        await adapter.aclose()
    return out


def run(latency_ms: int, count: int) -> dict[str, float]:
    proc, url = start_sandbox()
    settings = LoaSettings(s3_media_bucket=f"bench-x-{uuid.uuid4().hex[:8]}")
    store = MediaStore(settings)
    store.ensure_buckets(store.bucket)
    figures: dict[str, float] = {"latency_ms": latency_ms, "deliveries_per_kind": count}
    try:
        media = sample_media(store)
        account = x_account(url)
        with SandboxClient(url) as sandbox:
            sandbox.latency("x", latency_ms)
            sandbox.processing("x", 1)
            for kind in KINDS:
                done = asyncio.run(deliveries(kind, count, url, store, account, media[kind], sandbox))
                rest = done[1:] or done
                figures[f"{kind}_first_ms"] = round(1000 * done[0][0])
                figures[f"{kind}_first_round_trips"] = done[0][1]
                figures[f"{kind}_ms"] = round(1000 * statistics.median(t for t, _ in rest))
                figures[f"{kind}_round_trips"] = statistics.median(c for _, c in rest)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for obj in store.client.list_objects(store.bucket, recursive=True):
            store.client.remove_object(store.bucket, obj.object_name or "")
        store.client.remove_bucket(store.bucket)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=int, default=300, help="added to every X call at the sandbox")
    parser.add_argument(
        "--deliveries", type=int, default=5, help="posts of each kind (the first pays set-up)"
    )
    args = parser.parse_args()
    figures = run(args.latency_ms, args.deliveries)
    for name, value in figures.items():
        unit = "ms" if name.endswith("_ms") else "calls" if name.endswith("round_trips") else ""
        print(f"x_round_trips_{name}: {value} {unit}".rstrip())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
