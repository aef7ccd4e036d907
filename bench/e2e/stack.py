"""The bench's own services: the sandbox, the tracker and one publisher process per channel, on free ports.

Kafka, MinIO and PostgreSQL are the shared local stack (never stopped here) unless ``base`` and
``pg_admin_url`` point elsewhere (``bench/drill.py``: a private stack); everything this module starts
lives under a unique topic prefix, media bucket, databases and temporary folder, and is stopped (the
databases dropped) by ``stop``.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml
from cryptography.fernet import Fernet

from bench.e2e.press import add_press_lists, wait_for_publisher
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT, LoaSettings
from loa.testing.ports import free_port
from services.sandbox.client import SandboxClient

if TYPE_CHECKING:  # observe.py imports this module
    from bench.e2e.observe import TrackerClient

CHANNELS = ("webhook", "facebook", "zalo", "youtube", "x")
"""The channels every content of the bench targets (the chaos run, the drills and ``bench/urgent.py``
use these too)."""
PACED = ("email", "tiktok")
"""Channels a share of the contents targets, sized within their platforms' limits
(``bench/e2e/shares.py``): the e-mail channel to the bench's own Mailpit, TikTok to its emulator."""
BENCHED = (*CHANNELS, *PACED)
"""Every channel the e2e bench (``bench/e2e.py``) publishes to."""
EMULATED = tuple(c for c in BENCHED if c != "email")
"""The benched channels the sandbox emulates (e-mail goes to Mailpit)."""
PRESS_LIST_SIZE = 10
"""Journalists per bench press list (``bench/e2e.py --press-list``)."""
NOT_BENCHED = {
    "website": "publishes to MinIO, not to a platform; bench/website.py measures it",
}
"""Channels with a publisher that the e2e bench leaves out, and why (a unit test checks that every
channel is in one of the two)."""

BIG_QUOTA = 1_000_000_000
WEBSITE_BASE_URL = "https://www.example.gov.vn"
"""The website the posts link to, as production's is: a domain, which X counts as a link (23) and the
others as its text. The loopback default (``http://127.0.0.1:8082``) is no link to X: every X post
carried its ~120 characters and went out as a thread of two, two posts a delivery, not production's
one. Nothing fetches it: the bench runs no website."""
MAILPIT = Path(os.environ.get("LOA_CACHE_DIR") or REPO_ROOT / ".loa") / "bin" / "mailpit"
"""The stack's Mailpit binary (``deploy/local/mailpit.sh`` builds it into the cache); the bench runs its own
instance on free ports, so its thousands of messages neither push out nor mix with the shared one's."""
SIDECARS = ("sandbox", "mailpit")
"""What the bench runs that is not Loa: the emulated platforms and the SMTP server."""
PG_ADMIN_URL = os.environ.get("LOA_PG_ADMIN_URL", "postgresql://loa@127.0.0.1:5432/postgres")
"""The shared stack's PostgreSQL ``postgres`` database (as ``tests/conftest.py``), to create the tracker's."""
REFERENCE_CLIENT = os.environ.get("LOA_BENCH_REFERENCE_CLIENT", "http.client")
"""The reference publisher's HTTP client, one of ``bench.reference.request.CLIENTS``: ``http.client``
(issue #20's reference), or ``httpx`` / ``httpx-threads``, the floor under the brief's client
(docs/benchmarks.md, "Session 43: the floor under the brief's HTTP client")."""
TRACKER = "tracker"


def channel_limits() -> dict[str, tuple[int, float] | None]:
    """Each channel's declared per-account limit, from its registered adapter class."""
    import importlib

    from loa.channels import registry

    for channel in BENCHED:
        importlib.import_module(f"services.{channel}.adapter")
    return {c: registry.get(c).limits.requests_per_period for c in BENCHED}


HEADROOM = 0.5
"""Each account is asked for at most this share of what its bucket can give over a phase."""


def accounts_needed(limit: tuple[int, float] | None, contents: int, seconds: float) -> int:
    """Accounts so that the adapter's per-account token bucket never holds the run back.

    A bucket gives ``n`` at once plus ``n/period`` per second. Contents arrive in bursts (a Kafka
    batch at a time), so an account used right at its limit would run dry now and then and defer
    posts; each account gets at most ``HEADROOM`` of ``n + n/period * seconds``.
    """
    if limit is None:
        return 1
    n, period = limit
    return max(1, math.ceil(contents / (HEADROOM * (n + n / period * seconds))))


def dkim_private_key() -> str:
    """A fresh RSA key (PEM) for the bench's DKIM signatures (no one verifies them: the cost is the point)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    health: str
    log: Path
    metrics: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:  # the child has its own copy
            self.proc = subprocess.Popen(
                self.argv, cwd=REPO_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            return httpx.get(self.health, timeout=timeout, verify=False).status_code < 500
        except httpx.HTTPError:
            return False

    def sigkill(self) -> None:
        """SIGKILL the process (a crash: nothing of it runs on) and reap it."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self) -> None:
        """SIGTERM (a graceful stop), without waiting for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stopped(self, timeout: float = 20.0) -> None:
        """Wait for a terminated process to end; SIGKILL it after ``timeout`` s."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self, timeout: float = 20.0) -> None:
        self.terminate()
        self.stopped(timeout)


@dataclass
class BenchStack:
    """The sandbox, the tracker and one publisher per channel of ``pools``, with accounts for
    ``pools[channel]`` names."""

    workdir: Path
    pools: dict[str, list[str]]
    tracker_db: str = "postgresql"
    publisher_db: str = "sqlite"
    """The publishers' job stores: a SQLite file each, or a PostgreSQL database each."""
    base: LoaSettings = field(default_factory=LoaSettings)
    pg_admin_url: str = PG_ADMIN_URL
    log_level: str = "WARNING"
    tag: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    services: dict[str, Service] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sandbox_port, self.tls_port = free_port(), free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.tls_url = f"https://127.0.0.1:{self.tls_port}"
        self.ca_file = self.workdir / "sandbox-ca.pem"
        self.topic_prefix = f"{self.tag}."
        self.media_bucket = f"{self.tag}-media"
        self.key = Fernet.generate_key().decode()
        self.tracker_port = free_port()
        self.tracker_url = f"http://127.0.0.1:{self.tracker_port}"
        self.tracker_token = secrets.token_urlsafe(24)  # a viewer: the bench only reads
        self.setup_token = secrets.token_urlsafe(24)  # an admin: adds the press lists, nothing else
        self.mailpit_port, self.smtp_port = free_port(), free_port()
        self.mailpit_url = f"http://127.0.0.1:{self.mailpit_port}"
        self.pg_database = self.tag.replace("-", "_")
        self._pg_created: list[str] = []

    # ---- environment ---------------------------------------------------------------------------

    def _env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=CHECKOUT_PYTHONPATH,
            LOA_KAFKA_BOOTSTRAP=self.base.kafka_bootstrap,
            LOA_S3_ENDPOINT=self.base.s3_endpoint,
            LOA_S3_MEDIA_BUCKET=self.media_bucket,
            LOA_TOPIC_PREFIX=self.topic_prefix,
            LOA_LOG_LEVEL=self.log_level,
            LOA_WEBSITE_BASE_URL=WEBSITE_BASE_URL,
        )
        env.update(extra)
        return env

    def _channel_env(self, channel: str) -> dict[str, str]:
        port = free_port()
        env = self._env(
            LOA_PUBLISHER_DATABASE_URL=self._database_url(f"jobs-{channel}"),
            LOA_CREDENTIALS_KEY=self.key,
            LOA_ACCOUNTS_FILE=str(self.workdir / f"accounts-{channel}.yaml"),
            LOA_PUBLISHER_PORT=str(port),
            LOA_FACEBOOK_GRAPH_URL=f"{self.sandbox_url}/graph",
            LOA_ZALO_OPENAPI_URL=f"{self.sandbox_url}/zalo/openapi",
            LOA_ZALO_OAUTH_URL=f"{self.sandbox_url}/zalo/oauth",
            LOA_X_API_URL=f"{self.sandbox_url}/x",
            LOA_YOUTUBE_API_URL=self.tls_url,
            LOA_YOUTUBE_TOKEN_URL=f"{self.tls_url}/token",
            LOA_YOUTUBE_CA_CERTS=str(self.ca_file),
            LOA_YOUTUBE_CHUNK_SIZE=str(256 * 1024),
            LOA_YOUTUBE_DAILY_QUOTA=str(BIG_QUOTA),
            LOA_YOUTUBE_DAILY_UPLOADS=str(BIG_QUOTA),
            LOA_TIKTOK_API_URL=f"{self.sandbox_url}/tiktok",
            LOA_EMAIL_SMTP_HOST="127.0.0.1",
            LOA_EMAIL_SMTP_PORT=str(self.smtp_port),
            MALLOC_ARENA_MAX="2",  # as the Procfile and docker-compose.yml run the publishers
        )
        if channel == "email":  # every message signed, as in production
            env["LOA_EMAIL_DKIM_PRIVATE_KEY"] = dkim_private_key()
        env["_HEALTH"] = f"http://127.0.0.1:{port}/healthz"
        return env

    def _backend(self, name: str) -> str:
        return self.tracker_db if name == TRACKER else self.publisher_db

    def _pg_name(self, name: str) -> str:
        return f"{self.pg_database}_{name.replace('-', '_')}"

    def _database_url(self, name: str) -> str:
        """``name``'s store: a SQLite file in the workdir or a database of ``pg_admin_url``'s server."""
        if self._backend(name) == "sqlite":
            return f"sqlite+aiosqlite:///{self.workdir / f'{name}.db'}"
        base = self.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{self._pg_name(name)}"

    def _tracker_env(self, port: int) -> dict[str, str]:
        return self._env(
            LOA_DATABASE_URL=self._database_url(TRACKER),
            LOA_TRACKER_HOST="127.0.0.1",
            LOA_TRACKER_PORT=str(port),
            LOA_TRACKER_GROUP_ID=f"{self.tag}-tracker",
            LOA_TRACKER_TOKENS=json.dumps(
                {
                    "bench": {"token": self.tracker_token, "role": "viewer"},
                    "bench-setup": {"token": self.setup_token, "role": "admin"},
                }
            ),
            LOA_API_TOKEN="",  # the setup token adds press lists; nothing here acts on deliveries
            LOA_CREDENTIALS_KEY=self.key,  # the accounts API seals what it sends to the publishers
            MALLOC_ARENA_MAX="2",  # as the publishers
        )

    def build(self) -> None:
        """Describe the processes (not started yet)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        sandbox_env = self._env(
            LOA_SANDBOX_PORT=str(self.sandbox_port),
            LOA_SANDBOX_TLS_PORT=str(self.tls_port),
            LOA_SANDBOX_CA_FILE=str(self.ca_file),
        )
        self.services["sandbox"] = Service(
            "sandbox",
            [sys.executable, "-m", "services.sandbox"],
            sandbox_env,
            f"{self.sandbox_url}/_sandbox/clock",
            self.workdir / "sandbox.log",
        )
        if "email" in self.pools:
            if not MAILPIT.is_file():
                raise RuntimeError(f"{MAILPIT} is missing: `make setup` builds it (deploy/local/mailpit.sh)")
            self.services["mailpit"] = Service(
                "mailpit",
                [
                    str(MAILPIT),
                    *("--smtp", f"127.0.0.1:{self.smtp_port}", "--listen", f"127.0.0.1:{self.mailpit_port}"),
                    *("--database", str(self.workdir / "mailpit.db"), "--max", "0"),
                    "--disable-version-check",
                ],
                self._env(),
                f"{self.mailpit_url}/livez",
                self.workdir / "mailpit.log",
            )
        self.services |= self.loa_processes()

    def loa_processes(self) -> dict[str, Service]:
        """The tracker and one publisher per channel, by name (``ReplicaStack`` runs replicas)."""
        return {
            TRACKER: self.tracker(TRACKER, self.tracker_port),
            **{channel: self.publisher(channel, channel) for channel in self.pools},
        }

    def tracker(self, name: str, port: int) -> Service:
        """A tracker process on ``port`` (replicas share its database and consumer groups)."""
        url = f"http://127.0.0.1:{port}"
        return Service(
            name,
            [sys.executable, "-m", "services.tracker"],
            self._tracker_env(port),
            f"{url}/healthz",
            self.workdir / f"{name}.log",
            metrics=f"{url}/metrics",
        )

    def publisher(self, channel: str, name: str) -> Service:
        """A publisher process of ``channel``, replica ``name`` (its replica id, its log); replicas of
        a channel share its job store and consumer groups."""
        env = self._channel_env(channel)
        health = env.pop("_HEALTH")
        env["LOA_PUBLISHER_REPLICA_ID"] = f"{self.tag}-{name}"
        return Service(
            name,
            [sys.executable, "-m", f"services.{channel}"],
            env,
            health,
            self.workdir / f"{name}.log",
            metrics=health.replace("/healthz", "/metrics"),
        )

    def reference(self, accounts: Path) -> Service:
        """The bench's reference publisher (``bench/reference``) on the run's content stream, in its own
        consumer group: not a Loa service, so not among ``services`` (started and stopped apart); its
        HTTP client is ``REFERENCE_CLIENT``."""
        argv = [sys.executable, "-m", "bench.reference", "--accounts", str(accounts)]
        argv += ["--database", str(self.workdir / "reference.db"), "--group", f"{self.tag}-reference"]
        argv += ["--client", REFERENCE_CLIENT]
        env = self._env(MALLOC_ARENA_MAX="2")  # as the publishers
        return Service("reference", argv, env, "", self.workdir / "reference.log")

    # ---- lifecycle -----------------------------------------------------------------------------

    def start_sandbox(self, timeout: float = 60.0) -> float:
        """The sandbox (and Mailpit, when e-mail is benched); seconds until they answer."""
        started = time.monotonic()
        sidecars = [self.services[n] for n in SIDECARS if n in self.services]
        for service in sidecars:
            service.start()
        self._wait(sidecars, timeout)
        return time.monotonic() - started

    def start_all(self) -> TrackerClient:
        """Sandbox, accounts, databases, then the tracker and every publisher; a client of the tracker."""
        from bench.e2e.observe import TrackerClient

        self.start_sandbox()
        self.seed_accounts()
        self.create_databases()
        self.start_services()
        self.add_press_lists(PRESS_LIST_SIZE)
        metrics = {n: s.metrics for n, s in self.services.items() if s.metrics}
        return TrackerClient(self.tracker_url, self.tracker_token, metrics)

    def create_databases(self) -> None:
        """A fresh PostgreSQL database for each store kept there (SQLite: files made on start)."""
        import psycopg

        names = [TRACKER, *(f"jobs-{c}" for c in self.pools)]
        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            for name in names:
                if self._backend(name) == "postgresql":
                    conn.execute(f'CREATE DATABASE "{self._pg_name(name)}"')
                    self._pg_created.append(self._pg_name(name))

    def add_press_lists(self, size: int) -> float:
        """The e-mail pool's press lists of ``size`` journalists, through the tracker's API (run while
        the services run, off the event loop); seconds until the publisher has them."""
        names = self.pools.get("email", [])
        if not names:
            return 0.0
        add_press_lists(self.tracker_url, self.setup_token, names, size)
        return wait_for_publisher(self._database_url("jobs-email"), names)

    def loa_services(self) -> list[Service]:
        """Every Loa service the bench runs: the tracker and the publishers (not the sandbox or Mailpit)."""
        return [s for n, s in self.services.items() if n not in SIDECARS]

    def start_services(self, timeout: float = 120.0) -> float:
        """Start the tracker and every publisher at once; seconds until all answer ``/healthz``."""
        started = time.monotonic()
        services = self.loa_services()
        for service in services:
            service.start()
        self._wait(services, timeout)
        return time.monotonic() - started

    def stop_services(self) -> None:
        """SIGTERM to every Loa service at once, then wait for each (they stop in parallel)."""
        services = self.loa_services()
        for service in services:
            service.terminate()
        for service in services:
            service.stopped()

    def stop(self) -> None:
        """Stop every process, then drop the run's topics, buckets and tracker database."""
        self.stop_services()
        for name in SIDECARS:
            if name in self.services:
                self.services[name].stop()
        from loa.media import MediaStore
        from loa.testing.cleanup import drop_all

        drop_all(self.base.kafka_bootstrap, MediaStore(self.base).client, [self.tag])
        if self._pg_created:
            import psycopg

            with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                for database in self._pg_created:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            self._pg_created = []

    def _wait(self, services: list[Service], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(services)
        while pending:
            for service in list(pending):
                if service.proc is not None and service.proc.poll() is not None:
                    raise RuntimeError(f"{service.name} exited; see {service.log}")
                if service.healthy():
                    pending.remove(service)
            if time.monotonic() > deadline:
                raise RuntimeError(f"not healthy in {timeout:.0f} s: {[s.name for s in pending]}")
            time.sleep(0.1)

    def pids(self) -> dict[str, int]:
        return {
            n: s.proc.pid for n, s in self.services.items() if s.proc is not None and s.proc.poll() is None
        }

    # ---- platform accounts ---------------------------------------------------------------------

    def seed_accounts(self) -> None:
        """Create every account on the emulators (over their control APIs) and in a YAML per channel."""
        http = httpx.Client(base_url=self.sandbox_url, timeout=30)
        for bucket in ("default", "videos.insert", "search.list"):
            http.post(
                "/_sandbox/youtube/quota", params={"bucket": bucket, "limit": BIG_QUOTA}
            ).raise_for_status()
        # The emulator's own per-user X window; the adapter's declared bucket still applies.
        http.post("/x/_limits", params={"limit": BIG_QUOTA, "seconds": 900}).raise_for_status()
        with SandboxClient(self.sandbox_url) as sandbox:
            for platform in self.pools:  # zero added latency: media and articles are ready at once
                if platform in EMULATED:
                    sandbox.processing(platform, 0)
        for channel, names in self.pools.items():
            # Press lists are added through the tracker's API once it runs (add_press_lists).
            entries = [] if channel == "email" else [self._account(http, channel, name) for name in names]
            path = self.workdir / f"accounts-{channel}.yaml"
            path.write_text(yaml.safe_dump({"accounts": entries}, allow_unicode=True), encoding="utf-8")
        http.close()

    def _account(self, http: httpx.Client, channel: str, name: str) -> dict[str, Any]:
        secret = uuid.uuid4().hex
        entry: dict[str, Any] = {"channel": channel, "name": name}
        if channel == "webhook":
            http.put(f"/_sandbox/webhook/endpoints/{name}", json={"secret": secret}).raise_for_status()
            entry |= {
                "credentials": {"secret": secret},
                "options": {"url": f"{self.sandbox_url}/webhook/{name}"},
            }
        elif channel == "facebook":
            page_id = str(400_000_000_000_000 + uuid.uuid4().int % 10**12)
            token = f"EAAG{secret}"
            http.post(
                "/graph/_sandbox/pages", json={"id": page_id, "token": token, "name": name}
            ).raise_for_status()
            entry |= {"credentials": {"page_access_token": token}, "options": {"page_id": page_id}}
        elif channel == "zalo":
            app = {"app_id": secret[:12], "secret_key": secret, "oa_id": f"{name}-oa"}
            pair = http.post("/zalo/_apps", json=app).json()
            creds = {
                "app_id": app["app_id"],
                "secret_key": secret,
                **{k: pair[k] for k in ("access_token", "refresh_token")},
            }
            entry |= {"credentials": creds}
        elif channel == "x":
            keys = {
                k: f"{k}-{uuid.uuid4().hex}"
                for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
            }
            user_id = str(10_000 + uuid.uuid4().int % 10**9)
            http.post(
                "/x/_accounts", json={"id": user_id, "username": name.replace("-", "")[:15], **keys}
            ).raise_for_status()
            entry |= {"credentials": keys}
        elif channel == "tiktok":
            keys = {
                "client_key": f"aw{secret[:14]}",
                "client_secret": f"secret-{secret}",
                "access_token": f"act.{uuid.uuid4().hex}",
                "refresh_token": f"rft.{uuid.uuid4().hex}",
            }
            creator = {"open_id": f"_000{secret[:20]}", "username": name.replace("-", "")[:24], **keys}
            http.post("/tiktok/_creators", json=creator).raise_for_status()
            entry |= {"credentials": keys}
        elif channel == "youtube":
            entry |= {
                "credentials": {
                    "client_id": "loa-bench.apps.googleusercontent.com",
                    "client_secret": "GOCSPX-bench",
                    "refresh_token": f"1//{name}",
                }
            }
        return entry
