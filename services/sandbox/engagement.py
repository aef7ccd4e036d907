"""Figures for the posts the emulators received: a seeded, deterministic simulation.

Each metric of a post grows along a saturating curve, ``total × (1 − e^(−age/τ))``, with the post's
own scale drawn from ``random.Random(seed, platform, post id)``: the same seed, post and sandbox
clock give the same figures in any process, and a figure never goes down as the clock moves on.
``speed`` runs the post's age faster (``speed=360``: an hour of figures in ten seconds), so tests
and demos need not wait for the curve; ``/_sandbox/clock/advance`` moves it as well.

Scenarios plug in through ``Scenario`` and are played with ``POST /_sandbox/engagement/scenarios/{name}``;
``citizen_comments.py`` builds the comments themselves and the ``misinformation`` scenario (a burst of
comments with a false claim an hour after a post, issue #18 item 6).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

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

    def age(self, published_at: datetime) -> float:
        """The post's simulated age in seconds now (the sandbox's clock, run ``speed`` times faster)."""
        return max((sandbox.now() - published_at).total_seconds(), 0.0) * self.speed

    def at(self, published_at: datetime, age_s: float) -> datetime:
        """The sandbox time at which the post reaches the simulated age ``age_s``."""
        return published_at + timedelta(seconds=age_s / self.speed)

    def totals(self, platform: str, post_id: str) -> dict[str, tuple[float, float]]:
        """Each figure's final total for this post (its seeded scale) and its time constant τ."""
        rng = random.Random(f"{self.seed}:{platform}:{post_id}")
        scale = rng.uniform(0.3, 2.0)
        return {
            name: (total * scale * rng.uniform(0.8, 1.2), tau)
            for name, (total, tau) in CURVES[platform].items()
        }

    def figures(self, platform: str, post_id: str, published_at: datetime) -> dict[str, int]:
        """The post's figures now (the sandbox's clock), by the platform's own field names."""
        age = self.age(published_at)
        out = {
            name: int(total * (1 - math.exp(-age / tau)))
            for name, (total, tau) in self.totals(platform, post_id).items()
        }
        for scenario in self.scenarios:
            out = scenario.adjust(platform, post_id, age, out)
        return out

    def restart(self) -> None:
        """Back to the defaults (``/_sandbox/reset``)."""
        self.seed, self.speed, self.scenarios = Simulation.seed, Simulation.speed, []


simulation = Simulation()
sandbox.on_reset(simulation.restart)
SCENARIOS: dict[str, Callable[[dict[str, Any]], Scenario]] = {}
"""Scenario name → factory from the request's options (``citizen_comments`` registers its own)."""


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
def play(name: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Play a scenario over every post from now on (until ``/_sandbox/reset``)."""
    factory = SCENARIOS.get(name)
    if factory is None:
        raise HTTPException(404, f"name: no scenario {name!r} (built: {', '.join(sorted(SCENARIOS))})")
    try:
        scenario = factory(options or {})
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    simulation.scenarios.append(scenario)
    return {"playing": name, **vars(scenario)}
