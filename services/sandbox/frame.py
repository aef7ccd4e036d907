"""What every emulator shares: a record of what it received, injected faults, counters and a clock.

Emulators call ``await sandbox.enter(platform, path)`` first thing in each handler; a planned fault
answers instead of the emulator (status, body, headers, latency), as the real platform would.
A handler (or a helper it calls) answers at once with ``raise Answer(response)``: a refusal deep in
authentication needs no "is it a response?" check in every handler.
A fault planned with ``after=True`` lets the emulator do its work first and then holds its answer
(``latency_ms``), replacing it if ``status`` is not 0: the platform accepted the post, the caller has
not heard so yet (``LateAnswers``, the app's middleware, does the holding).
Each emulator may register, at import time, how its platform says "token expired" or "rate
limited" (``register_presets``) and how a reader sees one of its posts (``register_card``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRESETS = ("expired_token", "rate_limit", "server_error", "slow")


PROCESSING_CHECKS = 1
"""Default of ``Sandbox.processing_checks``: one "still processing" answer, as real platforms often give."""


class Answer(Exception):  # noqa: N818  (a way to answer, not an error)
    """Raised to answer the request with ``response`` now; ``build_app`` registers ``answer``."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"answer with {response.status_code}")
        self.response = response


async def answer(request: Request, exc: Exception) -> Response:
    """The sandbox app's handler of ``Answer``: the response it carries."""
    if not isinstance(exc, Answer):
        raise exc
    return exc.response


@dataclass
class Fault:
    """The next ``count`` calls to ``platform`` (matching ``path`` if given) answer this."""

    platform: str
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1
    latency_ms: int = 0
    path: str | None = None
    method: str | None = None
    """Only calls with this HTTP method (a resumable upload's PUT, not the POST that opens it)."""
    after: bool = False
    """Apply after the emulator handled the call (it took effect): its answer waits ``latency_ms``,
    then goes out as it was (``status`` 0) or replaced by this one."""


_held: ContextVar[list[Fault] | None] = ContextVar("sandbox_held_answer", default=None)
"""The ``after`` fault of the request being handled; set up per request by ``LateAnswers``."""
_method: ContextVar[str] = ContextVar("sandbox_request_method", default="")
"""The HTTP method of the request being handled (``Fault.method``); set per request by ``LateAnswers``."""


class LateAnswers:
    """ASGI middleware: holds (or replaces) the answer of a request an ``after`` fault matched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Fault] = []
        replaced = False

        async def send_late(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and held:
                fault = held.pop()
                await asyncio.sleep(fault.latency_ms / 1000)
                if fault.status != 0:
                    replaced = True
                    response = JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
                    await response(scope, receive, send)
            if not replaced:
                await send(message)

        token, method = _held.set(held), _method.set(str(scope.get("method", "")))
        try:
            await self.app(scope, receive, send_late)
        finally:
            _held.reset(token)
            _method.reset(method)


@dataclass
class Record:
    """One thing an emulator accepted (a post, an upload, a message)."""

    id: int
    platform: str
    kind: str
    at: str
    data: dict[str, Any]


@dataclass(frozen=True)
class PresetArgs:
    """What a preset builder knows when a test asks for ``rate_limit`` or ``expired_token``."""

    platform: str
    now: datetime
    reset_after_s: int = 60
    latency_ms: int = 3000


PresetBuilder = Callable[[PresetArgs], Fault]


def _generic_expired_token(args: PresetArgs) -> Fault:
    # RFC 6750 §3.1: 401 with WWW-Authenticate error="invalid_token".
    return Fault(
        args.platform,
        401,
        {"error": "invalid_token", "error_description": "The access token expired"},
        {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="The access token expired"'},
    )


def _generic_rate_limit(args: PresetArgs) -> Fault:
    # RFC 6585 §4 (429 + Retry-After) and the common X-RateLimit-* reset headers.
    reset = int((args.now + timedelta(seconds=args.reset_after_s)).timestamp())
    headers = {
        "Retry-After": str(args.reset_after_s),
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }
    return Fault(args.platform, 429, {"error": "rate_limited", "retry_after": args.reset_after_s}, headers)


def _generic_server_error(args: PresetArgs) -> Fault:
    return Fault(args.platform, 503, {"error": "service_unavailable"})


def _slow(args: PresetArgs) -> Fault:
    return Fault(args.platform, 0, latency_ms=args.latency_ms)


GENERIC_PRESETS: dict[str, PresetBuilder] = {
    "expired_token": _generic_expired_token,
    "rate_limit": _generic_rate_limit,
    "server_error": _generic_server_error,
    "slow": _slow,
}


@dataclass(frozen=True)
class CardRenderer:
    """How the reader page shows one platform's records (a Jinja2 template, autoescaped)."""

    template: str
    """Jinja2 source; gets ``record`` (a ``Record``) and ``data`` (its ``data``)."""
    kinds: frozenset[str] | None = None
    """Record kinds to show (``None``: every kind)."""
    visible: Callable[[Record], bool] | None = None
    """Hide records a reader would no longer see (e.g. deleted posts)."""


class Sandbox:
    """State shared by the emulators of one sandbox process."""

    def __init__(self) -> None:
        # Registrations happen at import time and survive ``reset``.
        self.presets: dict[str, dict[str, PresetBuilder]] = {}
        self.cards: dict[str, CardRenderer] = {}
        self._reset_hooks: list[Callable[[], None]] = []
        self._clear()

    def _clear(self) -> None:
        self.records: list[Record] = []
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.latency_ms: dict[str, int] = defaultdict(int)
        self.processing_checks: dict[str, int] = defaultdict(lambda: PROCESSING_CHECKS)
        """Per platform: status checks answered "still processing" before an upload or article is
        ready (0: ready at once, as a zero-latency platform would be)."""
        self.clock_offset = timedelta()
        self.requests: Counter[str] = Counter()
        """Calls each platform received (every ``fault()`` call counts one)."""
        self.faulted: Counter[str] = Counter()
        """Calls a planned fault answered instead of the emulator."""
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        """The emulators' clock; tests move it forward to pass a scheduled time."""
        return datetime.now(UTC) + self.clock_offset

    def record(self, platform: str, kind: str, data: dict[str, Any]) -> Record:
        entry = Record(next(self._ids), platform, kind, self.now().isoformat(), data)
        self.records.append(entry)
        return entry

    def list(self, platform: str | None = None, kind: str | None = None) -> list[Record]:
        return [
            r
            for r in self.records
            if (platform is None or r.platform == platform) and (kind is None or r.kind == kind)
        ]

    def plan(self, fault: Fault) -> None:
        self.faults[fault.platform].append(fault)

    def plan_preset(
        self,
        platform: str,
        preset: str,
        *,
        count: int = 1,
        path: str | None = None,
        reset_after_s: int = 60,
        latency_ms: int = 3000,
        after: bool = False,
    ) -> Fault:
        """Plan the platform's own way of saying ``preset`` (or the generic HTTP one)."""
        builder = self.presets.get(platform, {}).get(preset) or GENERIC_PRESETS.get(preset)
        if builder is None:
            raise ValueError(f"preset: unknown {preset!r} (known: {', '.join(PRESETS)})")
        fault = replace(
            builder(PresetArgs(platform, self.now(), reset_after_s, latency_ms)),
            count=count,
            path=path,
            after=after,
        )
        self.plan(fault)
        return fault

    async def fault(self, platform: str, path: str = "") -> Response | None:
        """Count the call, apply the platform's latency, then the next planned fault if one matches.

        An ``after`` fault is only noted here: the emulator goes on, ``LateAnswers`` holds its answer.
        """
        self.requests[platform] += 1
        started = time.monotonic()
        if self.latency_ms[platform]:
            await asyncio.sleep(self.latency_ms[platform] / 1000)
        for fault in self.faults[platform]:
            if fault.path is not None and fault.path not in path:
                continue
            if fault.method is not None and fault.method != _method.get():
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults[platform].remove(fault)
            if fault.after:
                self._hold(fault)
                return None
            remaining = fault.latency_ms / 1000 - (time.monotonic() - started)
            if remaining > 0:
                await asyncio.sleep(remaining)
            if fault.status == 0:  # latency only
                return None
            self.faulted[platform] += 1
            return JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
        return None

    def _hold(self, fault: Fault) -> None:
        held = _held.get()
        if held is None:
            raise RuntimeError("an `after` fault needs the LateAnswers middleware (build_app adds it)")
        held.append(fault)
        if fault.status != 0:
            self.faulted[fault.platform] += 1

    async def enter(self, platform: str, path: str = "") -> None:
        """``fault``, raising ``Answer`` with the planned fault's response if there is one."""
        response = await self.fault(platform, path)
        if response is not None:
            raise Answer(response)

    def register_presets(self, platform: str, presets: dict[str, PresetBuilder]) -> None:
        """An emulator's own fault shapes (e.g. Graph API error 190 for ``expired_token``)."""
        unknown = set(presets) - set(PRESETS)
        if unknown:
            raise ValueError(f"presets: unknown {sorted(unknown)} (known: {', '.join(PRESETS)})")
        self.presets.setdefault(platform, {}).update(presets)

    def register_card(
        self,
        platform: str,
        template: str,
        *,
        kinds: set[str] | None = None,
        visible: Callable[[Record], bool] | None = None,
    ) -> None:
        """How the reader page at ``/`` shows this platform's posts."""
        self.cards[platform] = CardRenderer(template, None if kinds is None else frozenset(kinds), visible)

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Called by ``reset()`` so an emulator can clear its own state."""
        self._reset_hooks.append(hook)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per platform: calls received, calls faulted, records by kind."""
        platforms = set(self.requests) | {r.platform for r in self.records}
        out: dict[str, dict[str, Any]] = {}
        for platform in sorted(platforms):
            kinds = Counter(r.kind for r in self.records if r.platform == platform)
            out[platform] = {
                "requests": self.requests[platform],
                "faulted": self.faulted[platform],
                "records": dict(sorted(kinds.items())),
            }
        return out

    def reset(self) -> None:
        """Forget records, faults, latency, counters and the clock offset (registrations stay)."""
        self._clear()
        for hook in self._reset_hooks:
            hook()


sandbox = Sandbox()
