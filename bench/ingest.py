"""Stream 1 GiB through ``POST /api/v1/media`` on a real uvicorn process, next to a direct MinIO
upload of the same bytes, and watch the ingest process's memory.

    PYTHONPATH=shared:. python bench/ingest.py [--mib 1024]

Targets: ingest throughput >= 70% of the direct upload; peak RSS growth of the ingest < 100 MB.
The body is generated (never on disk, never whole in memory). Two ingest runs: with the sha256
declared up front (``X-Content-SHA256``, as ``loa publish`` sends it: the upload goes straight
to its content address) and without (staged, hashed, then copied server-side to its address).
The direct figure is the better of one upload before and one after the ingest runs. Figures are
printed last, one per line as ``name: value unit``, and written to ``bench/results/ingest.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from loa.media import MediaStore
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT, LoaSettings
from loa.testing.ports import free_port

MIB = 1024 * 1024
CHUNK = MIB
RESULTS = REPO_ROOT / "bench" / "results" / "ingest.json"


BLOCK = os.urandom(CHUNK)


def body(total: int) -> Iterator[bytes]:
    """``total`` bytes that start like an MP4, in 1 MiB chunks of varying pseudo-random data
    (the same bytes on every call)."""
    block = BLOCK
    sent = 0
    index = 0
    while sent < total:
        chunk = index.to_bytes(8, "big") + block[8:]
        if index == 0:
            chunk = b"\0\0\0\x18ftypisom" + chunk[12:]
        chunk = chunk[: total - sent]
        sent += len(chunk)
        index += 1
        yield chunk


class Reader:
    """``body`` as a file for the MinIO client."""

    def __init__(self, total: int) -> None:
        self._chunks = body(total)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        size = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)


def direct_upload(store: MediaStore, total: int) -> float:
    """Seconds to put the same bytes into MinIO with the SDK's own streaming upload."""
    started = time.perf_counter()
    result = store.client.put_object(
        store.bucket,
        "direct/bench",
        Reader(total),  # type: ignore[arg-type]
        length=total,
        content_type="video/mp4",
    )
    seconds = time.perf_counter() - started
    store.client.remove_object(store.bucket, result.object_name)
    return seconds


def upload_through_ingest(
    pid: int, port: int, token: str, total: int, extra: dict[str, str]
) -> dict[str, Any]:
    sampler = RssSampler(pid)
    baseline = sampler.process.memory_info().rss
    sampler.start()
    started = time.perf_counter()
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/media",
        content=body(total),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "video/mp4",
            "Content-Length": str(total),
            **extra,
        },
        timeout=httpx.Timeout(60, read=600, write=600),
    )
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    response.raise_for_status()
    answer = response.json()
    assert answer["size"] == total, answer
    return {"key": answer["key"], "seconds": seconds, "baseline": baseline, "peak": sampler.peak}


def start_ingest(env: dict[str, str], port: int, log: Any) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.ingest"], env=env, cwd=REPO_ROOT, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the ingest process exited; see its log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the ingest did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="upload size in MiB (default 1 GiB)")
    total = parser.parse_args().mib * MIB
    tag = f"bench-{secrets.token_hex(4)}"
    base = LoaSettings()
    settings = base.model_copy(
        update={
            "s3_media_bucket": f"{tag}-media",
            "s3_website_bucket": f"{tag}-web",
            "topic_prefix": f"{tag}.",
        }
    )
    store = MediaStore(settings)
    store.ensure_buckets()
    token = secrets.token_urlsafe(24)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="loa-bench-"))
    env = {
        **os.environ,
        "PYTHONPATH": CHECKOUT_PYTHONPATH,
        "LOA_INGEST_PORT": str(port),
        "LOA_API_TOKEN": token,
        "LOA_S3_MEDIA_BUCKET": settings.s3_media_bucket,
        "LOA_S3_WEBSITE_BUCKET": settings.s3_website_bucket,
        "LOA_TOPIC_PREFIX": settings.topic_prefix,
        "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'ingest.db'}",
        "LOA_LOG_LEVEL": "WARNING",
    }
    results: dict[str, Any] = {"bytes": total}
    with (workdir / "ingest.log").open("wb") as log:
        process = start_ingest(env, port, log)
        try:
            direct_s = direct_upload(store, total)
            digest = hashlib.sha256()
            for chunk in body(total):
                digest.update(chunk)
            runs = {}
            for mode, extra in (("declared", {"X-Content-SHA256": digest.hexdigest()}), ("staged", {})):
                runs[mode] = upload_through_ingest(process.pid, port, token, total, extra)
                store.client.remove_object(store.bucket, runs[mode]["key"])
            direct_s = min(direct_s, direct_upload(store, total))  # the better of before and after
        finally:
            process.terminate()
            process.wait(30)
    for bucket in (store.bucket, store.website_bucket):
        store.client.remove_bucket(bucket)

    direct_mibs = total / MIB / direct_s
    results["direct_minio_mib_s"] = round(direct_mibs, 1)
    lines = [f"upload_size: {total / MIB:.0f} MiB", f"direct_minio_throughput: {direct_mibs:.1f} MiB/s"]
    for mode, run in runs.items():
        mibs = total / MIB / run["seconds"]
        growth = (run["peak"] - run["baseline"]) / 1e6
        results[f"ingest_{mode}"] = {
            "mib_s": round(mibs, 1),
            "ratio_to_direct": round(mibs / direct_mibs, 3),
            "rss_baseline_mb": round(run["baseline"] / 1e6, 1),
            "rss_peak_mb": round(run["peak"] / 1e6, 1),
            "rss_growth_mb": round(growth, 1),
        }
        lines += [
            f"ingest_{mode}_throughput: {mibs:.1f} MiB/s",
            f"ingest_{mode}_to_direct_ratio: {mibs / direct_mibs:.3f} ratio",
            f"ingest_{mode}_rss_growth: {growth:.1f} MB",
        ]
    results["targets"] = {"ratio_to_direct": ">= 0.70", "rss_growth_mb": "< 100"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
