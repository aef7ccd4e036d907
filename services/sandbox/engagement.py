"""Figures for the posts the emulators received: a seeded, deterministic simulation.

Each metric of a post grows along a saturating curve, ``total × (1 − e^(−age/τ))``, with the post's
own scale drawn from ``random.Random(seed, platform, post id)``: the same seed, post and sandbox
clock give the same figures in any process, and a figure never goes down as the clock moves on.
``speed`` runs the post's age faster (``speed=360``: an hour of figures in ten seconds), so tests
and demos need not wait for the curve; ``/_sandbox/clock/advance`` moves it as well.

Scenarios (a burst of comments with a false claim an hour after a post, issue #18 item 6) plug in
through ``Scenario``; none is built yet: the comment inbox that would show them comes next.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from services.sandbox.frame import sandbox

router = APIRouter(prefix="/_sandbox/engagement", tags=["sandbox control"])

HOUR = 3600.0
CURVES: dict[str, dict[str, tuple[float, float]]] = {
    # platform → figure → (typical total of a post, time constant τ in seconds): a Page post is seen
    # within a day, a video keeps its views for days, a post on X is over within hours.
    "facebook": {
        "post_impressions": (6000, 6 * HOUR),
        "post_impressions_unique": (4200, 6 * HOUR),
        "reactions": (320, 4 * HOUR),
        "comments": (45, 3 * HOUR),
        "shares": (30, 5 * HOUR),
    },
    "youtube": {
        "viewCount": (2500, 48 * HOUR),
        "likeCount": (140, 48 * HOUR),
        "commentCount": (20, 24 * HOUR),
    },
    "x": {
        "impression_count": (3000, 2 * HOUR),
        "like_count": (90, 2 * HOUR),
        "reply_count": (12, 1 * HOUR),
        "retweet_count": (25, 2 * HOUR),
        "quote_count": (4, 2 * HOUR),
        "bookmark_count": (6, 3 * HOUR),
    },
}


class Scenario(Protocol):
    """A story played over the simulation: it may change a post's figures at a given age."""

    def adjust(
        self, platform: str, post_id: str, age_s: float, figures: dict[str, int]
    ) -> dict[str, int]: ...


@dataclass
class Simulation:
    seed: int = 18
    speed: float = 1.0
    scenarios: list[Scenario] = field(default_factory=list)

    def figures(self, platform: str, post_id: str, published_at: datetime) -> dict[str, int]:
        """The post's figures now (the sandbox's clock), by the platform's own field names."""
        age = max((sandbox.now() - published_at).total_seconds(), 0.0) * self.speed
        rng = random.Random(f"{self.seed}:{platform}:{post_id}")
        scale = rng.uniform(0.3, 2.0)
        out = {
            name: int(total * scale * rng.uniform(0.8, 1.2) * (1 - math.exp(-age / tau)))
            for name, (total, tau) in CURVES[platform].items()
        }
        for scenario in self.scenarios:
            out = scenario.adjust(platform, post_id, age, out)
        return out

    def restart(self) -> None:
        """Back to the defaults (``/_sandbox/reset``)."""
        self.seed, self.speed, self.scenarios = Simulation.seed, Simulation.speed, []


simulation = Simulation()
sandbox.on_reset(simulation.restart)


class SimulationIn(BaseModel):
    seed: int = Field(18, description="the same seed gives the same figures")
    speed: float = Field(1.0, gt=0, le=1_000_000, description="how much faster than the clock posts age")


@router.get("")
def settings() -> dict[str, float]:
    return {"seed": simulation.seed, "speed": simulation.speed}


@router.post("")
def configure(body: SimulationIn) -> dict[str, float]:
    simulation.seed, simulation.speed = body.seed, body.speed
    return settings()


@router.post("/scenarios/{name}")
def play(name: str) -> dict[str, str]:
    """The hook for scenarios; none is built yet (the misinformation burst comes with the inbox)."""
    raise HTTPException(
        404, f"name: no scenario {name!r} (none is built yet; see services/sandbox/engagement.py)"
    )
