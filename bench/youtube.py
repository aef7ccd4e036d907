"""Bench: a large video from MinIO to the YouTube emulator over TLS, with constant memory.

Runs, in one go, against the real MinIO of the local stack and the sandbox (a subprocess):
1. a raw MinIO download of the object (the reference throughput), then the emulator's own ceiling:
   a bare ``http.client`` pushing the same number of bytes through the same resumable protocol
   over TLS from memory (no MinIO, no SDK);
2. the adapter's resumable upload of the same object in a separate publisher process, sampling
   its RSS (growth over the pre-upload baseline must stay under 100 MB);
3. a second upload that is SIGKILLed mid-way, then restarted from the job's saved progress:
   it must resume the same session (one session, one video, the sha256 intact, bytes not resent).

``python bench/youtube.py [--size-mib 2048] [--chunk-mib 8]``; figures last as ``name: value unit``
and in ``bench/results/youtube.json``. CPU seconds per GiB of each process are printed too: on a
shared 2-core machine the wall-clock rates follow the other load, the CPU cost per byte does not.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from loa.channels.credentials import UnsharedCredentials  # noqa: E402
from loa.media import MediaStore  # noqa: E402
from loa.settings import CHECKOUT_PYTHONPATH, LoaSettings  # noqa: E402
from loa.testing.ports import free_port  # noqa: E402

MIB = 1024 * 1024


def start_sandbox(workdir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    ca = workdir / "sandbox-ca.pem"
    tls_port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": CHECKOUT_PYTHONPATH,
        "LOA_SANDBOX_PORT": str(free_port()),
        "LOA_SANDBOX_TLS_PORT": str(tls_port),
        "LOA_SANDBOX_CA_FILE": str(ca),
    }
    proc = subprocess.Popen([sys.executable, "-m", "services.sandbox"], cwd=ROOT, env=env)
    url = f"https://127.0.0.1:{tls_port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            sandbox_get(url, ca, "/_sandbox/clock")
            return proc, url, ca
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the sandbox did not start")


def sandbox_get(url: str, ca: Path, path: str, method: str = "GET") -> Any:
    context = ssl.create_default_context(cafile=str(ca))
    request = urllib.request.Request(url + path, method=method)
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return json.loads(response.read())


def raw_download(store: MediaStore, key: str) -> float:
    """Seconds to stream the whole object from MinIO (1 MiB reads, nothing kept)."""
    started = time.perf_counter()
    total = 0
    for chunk in store.iter_bytes(key, chunk=MIB):
        total += len(chunk)
    return time.perf_counter() - started


def plain_upload(url: str, ca: Path, size: int, chunk: int, block: bytes) -> float:
    """The emulator's own ceiling: seconds for a bare ``http.client`` to push ``size`` bytes through
    the same resumable protocol over TLS, ``chunk`` bytes a PUT, from memory (no MinIO, no SDK)."""
    host, port = url.removeprefix("https://").split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context(cafile=str(ca)))
    form = "grant_type=refresh_token&client_id=bench&client_secret=bench-secret&refresh_token=1//bench-plain"
    conn.request("POST", "/token", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    token = json.loads(conn.getresponse().read())["access_token"]
    metadata = json.dumps({"snippet": {"title": "plain client", "categoryId": "25"}, "status": {}})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    headers |= {"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": "video/mp4"}
    conn.request(
        "POST", "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", metadata, headers
    )
    answer = conn.getresponse()
    answer.read()
    session = answer.getheader("Location", "").split(f":{port}", 1)[1]
    started = time.perf_counter()
    sent = 0
    while sent < size:
        n = min(chunk, size - sent)
        body = block if n == len(block) else block[:n]
        conn.request("PUT", session, body, {"Content-Range": f"bytes {sent}-{sent + n - 1}/{size}"})
        answer = conn.getresponse()
        answer.read()
        if answer.status not in (200, 308):
            raise RuntimeError(f"plain upload: {answer.status}")
        sent += n
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def cpu_s(pid: int | None = None) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run_child(
    args: list[str], kill_at_offset: int | None = None, progress: Path | None = None
) -> dict[str, Any]:
    """Run a publisher process; SIGKILL it once its saved offset passes ``kill_at_offset``."""
    env = {**os.environ, "PYTHONPATH": CHECKOUT_PYTHONPATH}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    if kill_at_offset is not None and progress is not None:
        while proc.poll() is None:
            try:
                saved = json.loads(progress.read_text())
            except (OSError, ValueError):
                saved = {}
            if saved.get("offset", 0) >= kill_at_offset:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return {"killed_at_offset": saved["offset"]}
            time.sleep(0.05)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"publisher process failed with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


# -- the publisher process ----------------------------------------------------------------------
class FileContext(UnsharedCredentials):
    """A Context whose job store is one JSON file, written atomically after every chunk."""

    def __init__(self, store: MediaStore, progress: Path) -> None:
        self.store = store
        self.progress = progress

    @property
    def media(self) -> MediaStore:
        return self.store

    def canonical_url(self, content: Any) -> str:
        return "https://bo-thong-tin.gov.vn/2026/11/bench.html"

    async def save_progress(self, post: Any) -> None:
        tmp = self.progress.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump(post.progress, f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.progress)

    async def retract_requested(self, post: Any) -> bool:
        return False  # nothing retracts during the bench

    async def save_credentials(self, account: Any, credentials: Any) -> Any:
        return account


def child(ns: argparse.Namespace) -> None:
    import psutil

    from loa.events import MediaRef
    from services.youtube.adapter import YouTubeAdapter
    from services.youtube.settings import YouTubeSettings
    from tests.channels.youtube.support import account, content

    settings = YouTubeSettings(
        s3_media_bucket=ns.bucket,
        youtube_api_url=ns.url,
        youtube_token_url=f"{ns.url}/token",
        youtube_ca_certs=Path(ns.ca),
        youtube_chunk_size=ns.chunk_mib * MIB,
    )
    store = MediaStore(settings)
    progress = Path(ns.progress)
    adapter = YouTubeAdapter(FileContext(store, progress), settings)
    video = MediaRef(
        key=ns.key, sha256=ns.key.removeprefix("sha256/"), content_type="video/mp4", size=ns.size
    )
    acct = account()
    item = content([video], id=ns.content_id)

    saved = json.loads(progress.read_text()) if progress.exists() else {}

    async def upload() -> dict[str, Any]:
        post = await adapter.render(item, item.targets[0], acct)
        post.progress = saved
        resumed_from = post.progress.get("offset")
        me = psutil.Process()
        baseline = me.memory_info().rss
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.05):
                peak = max(peak, me.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu = me.cpu_times()
        started = time.perf_counter()
        result = await adapter.publish(post, acct)
        seconds = time.perf_counter() - started
        cpu_after = me.cpu_times()
        done.set()
        sampler.join()
        return {
            "video_id": result.external_id,
            "seconds": seconds,
            "cpu_s": cpu_after.user + cpu_after.system - cpu.user - cpu.system,
            "rss_growth_mb": (peak - baseline) / 1e6,
            "resumed_from": resumed_from,
        }

    print(json.dumps(asyncio.run(upload())))


# -- the orchestrator ---------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--child", action="store_true")
    for name in ("url", "ca", "bucket", "key", "progress", "content-id"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--size", type=int)
    ns = parser.parse_args()
    if ns.child:
        child(ns)
        return

    from tests.channels.youtube.support import put_video

    tag = f"bench-yt-{uuid.uuid4().hex[:8]}"
    settings = LoaSettings(s3_media_bucket=f"{tag}-media", s3_website_bucket=f"{tag}-web")
    store = MediaStore(settings)
    store.ensure_buckets()
    size = ns.size_mib * MIB
    workdir = Path(tempfile.mkdtemp(prefix="loa-bench-yt-"))
    proc, url, ca = start_sandbox(workdir)
    figures: dict[str, Any] = {"size_mib": ns.size_mib, "chunk_mib": ns.chunk_mib}
    key = None
    try:
        started = time.perf_counter()
        key = put_video(store, size).key
        figures["minio_put_s"] = round(time.perf_counter() - started, 1)
        cpu = cpu_s()
        download_s = raw_download(store, key)
        download_cpu = cpu_s() - cpu
        first_chunk = store.open(key, length=ns.chunk_mib * MIB)
        block = first_chunk.read()
        first_chunk.close()
        first_chunk.release_conn()
        cpu, server_cpu = cpu_s(), cpu_s(proc.pid)
        plain_s = plain_upload(url, ca, size, ns.chunk_mib * MIB, block)
        plain_cpu, plain_server_cpu = cpu_s() - cpu, cpu_s(proc.pid) - server_cpu
        del block
        sandbox_get(url, ca, "/_sandbox/reset", method="POST")  # only the publisher's uploads below
        common = ["--url", url, "--ca", str(ca), "--bucket", store.bucket, "--key", key, "--size", str(size)]
        common += ["--chunk-mib", str(ns.chunk_mib)]

        server_cpu = cpu_s(proc.pid)
        first = run_child([*common, "--progress", str(workdir / "a.json"), "--content-id", "bench-a"])
        upload_server_cpu = cpu_s(proc.pid) - server_cpu
        state = sandbox_get(url, ca, "/_sandbox/youtube/state")
        uploaded = next(v for v in state["videos"] if v["id"] == first["video_id"])
        assert uploaded["sha256"] == key.removeprefix("sha256/"), "sha256 mismatch"

        progress = workdir / "b.json"
        args = [*common, "--progress", str(progress), "--content-id", "bench-b"]
        killed = run_child(args, kill_at_offset=size // 2, progress=progress)
        resumed = run_child(args)
        state = sandbox_get(url, ca, "/_sandbox/youtube/state")
        sessions = [s for s in state["sessions"] if s["video_id"] != first["video_id"]]
        videos = [v for v in state["videos"] if v["id"] != first["video_id"]]
        assert len(sessions) == 1, f"{len(sessions)} sessions after the restart"
        assert len(videos) == 1, f"{len(videos)} videos after the restart"
        assert videos[0]["sha256"] == key.removeprefix("sha256/"), "sha256 mismatch after resume"
        assert (resumed["resumed_from"] or 0) > 0, "did not resume"

        upload_mbps = size / first["seconds"] / 1e6
        download_mbps = size / download_s / 1e6
        plain_mbps = size / plain_s / 1e6
        gib = size / 1024**3
        figures.update(
            {
                "raw_minio_download_mb_s": round(download_mbps, 1),
                "upload_mb_s": round(upload_mbps, 1),
                "upload_vs_download_pct": round(100 * upload_mbps / download_mbps, 1),
                "emulator_ceiling_mb_s": round(plain_mbps, 1),
                "upload_vs_emulator_ceiling_pct": round(100 * upload_mbps / plain_mbps, 1),
                "download_client_cpu_s_per_gib": round(download_cpu / gib, 2),
                "publisher_cpu_s_per_gib": round(first["cpu_s"] / gib, 2),
                "emulator_cpu_s_per_gib": round(upload_server_cpu / gib, 2),
                "plain_client_cpu_s_per_gib": round(plain_cpu / gib, 2),
                "plain_emulator_cpu_s_per_gib": round(plain_server_cpu / gib, 2),
                "load_average_1m": round(os.getloadavg()[0], 1),
                "rss_growth_mb": round(first["rss_growth_mb"], 1),
                "killed_at_offset_mib": round(killed["killed_at_offset"] / MIB, 1),
                "resumed_from_mib": round(resumed["resumed_from"] / MIB, 1),
                "resume_rss_growth_mb": round(resumed["rss_growth_mb"], 1),
                "sessions_after_restart": len(sessions),
                "videos_after_restart": len(videos),
            }
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if key is not None:
            store.client.remove_object(store.bucket, key)
        for bucket in (store.bucket, store.website_bucket):
            store.client.remove_bucket(bucket)

    out = ROOT / "bench" / "results" / "youtube.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    units = {
        "size_mib": "MiB",
        "chunk_mib": "MiB",
        "minio_put_s": "s",
        "raw_minio_download_mb_s": "MB/s",
        "upload_mb_s": "MB/s",
        "upload_vs_download_pct": "%",
        "emulator_ceiling_mb_s": "MB/s",
        "upload_vs_emulator_ceiling_pct": "%",
        "download_client_cpu_s_per_gib": "s/GiB",
        "publisher_cpu_s_per_gib": "s/GiB",
        "emulator_cpu_s_per_gib": "s/GiB",
        "plain_client_cpu_s_per_gib": "s/GiB",
        "plain_emulator_cpu_s_per_gib": "s/GiB",
        "load_average_1m": "runnable",
        "rss_growth_mb": "MB",
        "killed_at_offset_mib": "MiB",
        "resumed_from_mib": "MiB",
        "resume_rss_growth_mb": "MB",
        "sessions_after_restart": "count",
        "videos_after_restart": "count",
    }
    for name, value in figures.items():
        print(f"youtube_{name}: {value} {units[name]}")


if __name__ == "__main__":
    main()
