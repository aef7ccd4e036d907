"""The sandbox's own API under ``/_sandbox``: records, faults, latency, clock, reset."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.sandbox.frame import Fault, sandbox

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


class FaultIn(BaseModel):
    platform: str
    status: int = Field(500, description="0 = latency only")
    body: Any = None
    headers: dict[str, str] = {}
    count: int = Field(1, ge=1)
    latency_ms: int = Field(0, ge=0)
    path: str | None = None


@router.get("/records")
def records(platform: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    return [asdict(r) for r in sandbox.list(platform, kind)]


@router.post("/faults")
def add_fault(fault: FaultIn) -> dict[str, str]:
    sandbox.plan(Fault(**fault.model_dump()))
    return {"status": "planned"}


@router.post("/latency")
def set_latency(platform: str, ms: int) -> dict[str, int]:
    sandbox.latency_ms[platform] = ms
    return {platform: ms}


@router.post("/clock/advance")
def advance_clock(seconds: float) -> dict[str, str]:
    sandbox.clock_offset += timedelta(seconds=seconds)
    return {"now": sandbox.now().isoformat()}


@router.get("/clock")
def clock() -> dict[str, str]:
    return {"now": sandbox.now().isoformat()}


@router.post("/reset")
def reset() -> dict[str, str]:
    sandbox.reset()
    return {"status": "reset"}
