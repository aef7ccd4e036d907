"""The sandbox's own API under ``/_sandbox``: records, faults, latency, clock, counters, reset."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from services.sandbox.frame import Fault, sandbox

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


class FaultIn(BaseModel):
    """Either an explicit answer (status/body/headers) or a ``preset`` in the platform's own shape."""

    platform: str
    preset: Literal["expired_token", "rate_limit", "server_error", "slow"] | None = None
    status: int = Field(500, description="0 = latency only")
    body: Any = None
    headers: dict[str, str] = {}
    count: int = Field(1, ge=1)
    latency_ms: int = Field(0, ge=0)
    path: str | None = None
    method: str | None = Field(None, description="only calls with this HTTP method")
    after: bool = Field(False, description="the emulator handles the call first; then its answer is held")
    reset_after_s: int = Field(60, ge=0, description="rate_limit: seconds until the window resets")


@router.get("/records")
def records(platform: str | None = None, kind: str | None = None, after: int = 0) -> list[dict[str, Any]]:
    """What the emulators accepted, oldest first; ``after`` = only records with a larger id."""
    return [asdict(r) for r in sandbox.list(platform, kind) if r.id > after]


@router.post("/faults")
def add_fault(fault: FaultIn) -> dict[str, Any]:
    if fault.preset is None:
        planned = Fault(**fault.model_dump(exclude={"preset", "reset_after_s"}))
        sandbox.plan(planned)
    else:
        planned = sandbox.plan_preset(
            fault.platform,
            fault.preset,
            count=fault.count,
            path=fault.path,
            reset_after_s=fault.reset_after_s,
            latency_ms=fault.latency_ms or 3000,
            after=fault.after,
        )
    return {"status": "planned", "fault": asdict(planned)}


@router.get("/faults")
def list_faults() -> list[dict[str, Any]]:
    return [asdict(f) for faults in sandbox.faults.values() for f in faults]


@router.post("/latency")
def set_latency(platform: str, ms: int) -> dict[str, int]:
    if ms < 0:
        raise HTTPException(422, "ms: must be >= 0")
    sandbox.latency_ms[platform] = ms
    return {platform: ms}


@router.post("/processing")
def set_processing(platform: str, checks: int) -> dict[str, int]:
    """How many status checks ``platform`` answers "still processing" before media is ready."""
    if checks < 0:
        raise HTTPException(422, "checks: must be >= 0")
    sandbox.processing_checks[platform] = checks
    return {platform: checks}


@router.post("/clock/advance")
def advance_clock(seconds: float) -> dict[str, str]:
    sandbox.clock_offset += timedelta(seconds=seconds)
    return {"now": sandbox.now().isoformat()}


@router.get("/clock")
def clock() -> dict[str, str]:
    return {"now": sandbox.now().isoformat()}


@router.get("/stats")
def stats() -> dict[str, dict[str, Any]]:
    """Per platform: calls received, calls a fault answered, records by kind."""
    return sandbox.stats()


@router.post("/reset")
def reset() -> dict[str, str]:
    sandbox.reset()
    return {"status": "reset"}
