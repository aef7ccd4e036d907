"""A small process supervisor for ``make run``: starts every service of a Procfile, waits until
each is ready, prefixes their output with their name, restarts a service that exits (exponential
backoff, as a process manager would) while the others keep running, and stops them all only on
Ctrl-C / SIGTERM (``make stop``).

Usage: ``python deploy/local/supervise.py [deploy/local/services.Procfile] [--then CMD]``
Procfile lines: ``<name>: <command>    # ready: <url>`` (``http://...`` or ``tcp://host:port``).
``python deploy/local/supervise.py --stop`` stops a running supervisor (via its pidfile).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from loa.access.storage import store_user

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LOA_CACHE_DIR", REPO / ".loa")).resolve()
PIDFILE = CACHE / "run" / "supervise.pid"
READY_TIMEOUT = float(os.environ.get("LOA_READY_TIMEOUT", "60"))
STOP_TIMEOUT = 10.0
LINE = re.compile(r"^(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>.*?)\s*(?:#\s*ready:\s*(?P<ready>\S+))?\s*$")
ASSIGNMENT = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S*)\s+")


@dataclass(frozen=True)
class Service:
    name: str
    command: str
    ready: str | None
    env: dict[str, str] = field(default_factory=dict)
    """``NAME=value`` words before the command (``exec`` would take them for the program)."""


@dataclass(frozen=True)
class RestartPolicy:
    """When to restart a service that exited: after ``first_delay`` s, doubling up to ``max_delay``;
    a run that lasted ``stable_after`` s resets the delay; ``give_up_after`` quick exits in a row
    (each before ``stable_after``) and the service is left down. (The shape of systemd's
    ``RestartSec``/``RestartSteps``/``RestartMaxDelaySec`` and ``StartLimitBurst``, systemd.service(5).)"""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0
    give_up_after: int = 8


@dataclass
class Backoff:
    """One service's restart delays under ``policy``; the one owner of the restart rule."""

    policy: RestartPolicy
    quick_exits: int = 0

    def after_exit(self, up_seconds: float) -> float | None:
        """Seconds to wait before the next start, or None: too many quick exits, give up."""
        if up_seconds >= self.policy.stable_after:
            self.quick_exits = 0
        self.quick_exits += 1
        if self.quick_exits >= self.policy.give_up_after:
            return None
        return float(min(self.policy.max_delay, self.policy.first_delay * 2 ** (self.quick_exits - 1)))


def describe_exit(code: int) -> str:
    """``code 3`` or ``signal SIGKILL`` (asyncio reports death by signal N as -N)."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"code {code}"


def parse_procfile(text: str) -> list[Service]:
    """The services of a Procfile; blank and comment lines are skipped; names must be unique."""
    services: list[Service] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if not match or not match["command"]:
            raise ValueError(f"Procfile line {number}: expected '<name>: <command>', got {raw!r}")
        if any(s.name == match["name"] for s in services):
            raise ValueError(f"Procfile line {number}: service {match['name']!r} is listed twice")
        command, env = match["command"], {}
        while assignment := ASSIGNMENT.match(command):
            env[assignment["key"]] = assignment["value"]
            command = command[assignment.end() :]
        services.append(Service(match["name"], command, match["ready"], env))
    return services


def store_credentials(service: str, env_file: Path = REPO / ".env.local") -> dict[str, str]:
    """The MinIO user ``service`` runs as (``loa.access.storage``): its own, never the root user
    that ``.env.local``'s ``LOA_S3_ACCESS_KEY`` holds for the stack's setup; none for a service that
    has no user (the tracker, the sandbox)."""
    user = store_user(service)
    if user is None:
        return {"LOA_S3_ACCESS_KEY": "", "LOA_S3_SECRET_KEY": ""}
    secret = os.environ.get(user.secret_setting) or dotenv_values(env_file).get(user.secret_setting) or ""
    return {"LOA_S3_ACCESS_KEY": user.access_key, "LOA_S3_SECRET_KEY": secret}


def answers(url: str) -> bool:
    """True when ``url`` answers: an HTTP status below 500, or an open TCP port."""
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex((parts.hostname or "127.0.0.1", parts.port or 0)) == 0
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local URL
            return int(response.status) < 500
    except urllib.error.HTTPError as e:
        return e.code < 500
    except OSError:
        return False


def kafka_identity(service: str) -> dict[str, str]:
    """``LOA_KAFKA_SASL_USERNAME``/``_PASSWORD`` of ``service``'s own principal (loa.kafka_acl), its
    password from the environment or ``.env.local`` (written by the stack's setup); none for a
    service without Kafka (the sandbox)."""
    from dotenv import dotenv_values  # the venv's; this file's own code needs the stdlib only

    from loa.kafka_acl import service_credentials
    from loa.settings import ENV_FILE

    values = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None} if ENV_FILE.is_file() else {}
    return service_credentials(service, {**values, **os.environ})


class Supervisor:
    def __init__(
        self, services: list[Service], then: str | None = None, policy: RestartPolicy | None = None
    ) -> None:
        self.services = services
        self.then = then
        """A command run once when every service is ready (``make run`` publishes the sample)."""
        self.policy = policy or RestartPolicy()
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.gave_up: set[str] = set()
        self.stopping = asyncio.Event()
        self.width = max((len(s.name) for s in services), default=4)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, ["shared", ".", env.get("PYTHONPATH")]))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def say(self, name: str, text: str) -> None:
        sys.stdout.write(f"{name:<{self.width}} | {text}\n")
        sys.stdout.flush()

    async def pump(self, service: Service, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            self.say(service.name, raw.decode("utf-8", "replace").rstrip("\n"))

    async def spawn(self, service: Service) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            f"exec {service.command}",
            cwd=REPO,
            env=self.environment()
            | store_credentials(service.name)
            | kafka_identity(service.name)
            | service.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: we stop it and its children
        )
        self.processes[service.name] = process
        self.say(service.name, f"started, pid {process.pid}")
        asyncio.create_task(self.pump(service, process))  # noqa: RUF006 - ends with the process
        return process

    async def keep(self, service: Service) -> None:
        """Run ``service`` until the supervisor stops; restart it after each exit (``Backoff``)."""
        backoff = Backoff(self.policy)
        process = await self.spawn(service)
        while True:
            started = time.monotonic()
            code = await process.wait()
            if self.stopping.is_set():
                return
            with contextlib.suppress(ProcessLookupError):  # children it left behind hold its ports
                os.killpg(process.pid, signal.SIGKILL)
            up = time.monotonic() - started
            delay = backoff.after_exit(up)
            if delay is None:
                self.gave_up.add(service.name)
                self.say(
                    service.name,
                    f"exited with {describe_exit(code)} after {up:.1f} s; {backoff.quick_exits} quick exits "
                    f"in a row: giving up on it (the others keep running; fix it and restart `make run`)",
                )
                return
            self.say(
                service.name,
                f"exited with {describe_exit(code)} after {up:.1f} s; restarting in {delay:g} s "
                f"(restart {backoff.quick_exits} of at most {self.policy.give_up_after - 1} in a row)",
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)
            if self.stopping.is_set():
                return
            process = await self.spawn(service)
            asyncio.create_task(self.wait_ready(service))  # noqa: RUF006 - ends by itself

    async def wait_ready(self, service: Service) -> bool:
        if service.ready is None:
            return True
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and not self.stopping.is_set() and service.name not in self.gave_up:
            if await asyncio.to_thread(answers, service.ready):
                self.say(service.name, f"ready: {service.ready}")
                return True
            await asyncio.sleep(0.5)
        if not self.stopping.is_set():
            self.say(service.name, f"not ready within {READY_TIMEOUT:.0f} s ({service.ready})")
        return False

    async def run_then(self, command: str) -> None:
        """Run ``command`` once; its failure is reported, the services stay up."""
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            command,
            cwd=REPO,
            env=self.environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        await self.pump(Service("then", command, None), process)
        code = await process.wait()
        if code != 0:
            self.say("then", f"exited with code {code} (the services keep running)")

    async def stop_all(self) -> None:
        for process in self.processes.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in self.processes.items():
            try:
                await asyncio.wait_for(process.wait(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                self.say(name, "did not stop in time; killing")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        keepers = [asyncio.create_task(self.keep(s)) for s in self.services]
        ready = await asyncio.gather(*(self.wait_ready(s) for s in self.services))
        failed = not all(ready)
        if failed:
            self.say("loa", "not every service became ready; stopping them all")
            self.stopping.set()
        else:
            self.say("loa", "all services ready; Ctrl-C stops them")
            for service in self.services:
                self.say("loa", f"  {service.name:<{self.width}} {service.ready or '(no readiness URL)'}")
            if self.then:
                asyncio.create_task(self.run_then(self.then))  # noqa: RUF006 - ends by itself
        await self.stopping.wait()
        self.say("loa", "stopping services")
        await self.stop_all()
        await asyncio.gather(*keepers)
        crashed = any(p.returncode not in (0, -signal.SIGTERM, 143) for p in self.processes.values())
        return 1 if failed or crashed or self.gave_up else 0


def stop_running() -> int:
    """SIGTERM the supervisor recorded in the pidfile (``make stop``)."""
    try:
        pid = int(PIDFILE.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        print("supervisor: not running")
        return 0
    if b"supervise.py" not in cmdline:
        PIDFILE.unlink(missing_ok=True)
        print("supervisor: not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(40):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.5)
    print(f"supervisor: stopped (pid {pid})")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    default = RestartPolicy()
    parser = argparse.ArgumentParser(prog="supervise.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "procfile", nargs="?", type=Path, default=REPO / "deploy" / "local" / "services.Procfile"
    )
    parser.add_argument("--stop", action="store_true", help="stop the running supervisor (its pidfile)")
    parser.add_argument("--then", help="a command run once when every service is ready")
    parser.add_argument(
        "--restart-delay", type=float, default=default.first_delay, help="first restart delay, s"
    )
    parser.add_argument("--restart-max-delay", type=float, default=default.max_delay, help="longest delay, s")
    parser.add_argument(
        "--stable-after", type=float, default=default.stable_after, help="a run this long resets the delay, s"
    )
    parser.add_argument(
        "--give-up-after",
        type=int,
        default=default.give_up_after,
        help="quick exits in a row before giving up",
    )
    args = parser.parse_args(argv)
    if args.restart_delay <= 0 or args.restart_max_delay < args.restart_delay or args.give_up_after < 1:
        parser.error("need 0 < --restart-delay <= --restart-max-delay and --give-up-after >= 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    if args.stop:
        return stop_running()
    procfile: Path = args.procfile
    policy = RestartPolicy(args.restart_delay, args.restart_max_delay, args.stable_after, args.give_up_after)
    then: str | None = args.then
    services = parse_procfile(procfile.read_text(encoding="utf-8"))
    if not services:
        print(f"no services listed in {procfile}; the infrastructure is up, nothing else to start")
        return 0
    PIDFILE.parent.mkdir(parents=True, exist_ok=True)
    PIDFILE.write_text(str(os.getpid()))
    try:
        return asyncio.run(Supervisor(services, then, policy).run())
    finally:
        PIDFILE.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
