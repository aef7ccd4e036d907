"""What every emulator shares: a record of what it received, injected faults, and a clock.

Emulators call ``await sandbox.fault(platform)`` first thing in each handler; a planned fault
answers instead of the emulator (status, body, headers, latency), as the real platform would.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse


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


@dataclass
class Record:
    """One thing an emulator accepted (a post, an upload, a message)."""

    id: int
    platform: str
    kind: str
    at: str
    data: dict[str, Any]


class Sandbox:
    """State shared by the emulators of one sandbox process."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.latency_ms: dict[str, int] = defaultdict(int)
        self.clock_offset = timedelta()
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

    async def fault(self, platform: str, path: str = "") -> Response | None:
        """Apply the platform's latency, then the next planned fault if one matches."""
        started = time.monotonic()
        if self.latency_ms[platform]:
            await asyncio.sleep(self.latency_ms[platform] / 1000)
        for fault in self.faults[platform]:
            if fault.path is not None and fault.path not in path:
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults[platform].remove(fault)
            remaining = fault.latency_ms / 1000 - (time.monotonic() - started)
            if remaining > 0:
                await asyncio.sleep(remaining)
            if fault.status == 0:  # latency only
                return None
            return JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
        return None

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


sandbox = Sandbox()
