"""Citizens' comments on the posts the emulators received: seeded, deterministic, in Vietnamese.

A post's comment count is the simulation's own figure (Facebook ``comments``, YouTube
``commentCount``, X ``reply_count``), so the comments listed always match the figures the listener
reads. The i-th comment appears when the post's curve ``total × (1 − e^(−age/τ))`` reaches i + 1:
its time, author and text come from ``random.Random(seed, platform, post id, i)``, so the same
seed and clock give the same comments in any process.

The ``misinformation`` scenario (issue #18 item 6) adds, ``after_s`` of simulated age after each post
(an hour by default), a burst of ``count`` comments carrying a false claim ("tin giả", "lừa đảo",
"sai sự thật"), spread over ``spread_s``. ``POST /_sandbox/engagement/scenarios/misinformation``
with ``{"after_s": 3600, "count": 30, "spread_s": 600}`` plays it.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.sandbox import engagement

COUNT_FIELD = {"facebook": "comments", "youtube": "commentCount", "x": "reply_count"}
"""The figure of each platform that counts comments (its own field name)."""

AUTHORS = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Đức",
    "Phạm Thu Hà",
    "Đặng Quốc Bảo",
    "Võ Minh Khoa",
    "Huỳnh Ngọc Ánh",
    "Bùi Thanh Tùng",
    "Đỗ Thị Lan",
    "Hồ Văn Đạt",
]
ORGANIC = [
    "Cảm ơn thành phố đã thông tin kịp thời.",
    "Cho hỏi thủ tục này nộp trực tuyến được không ạ?",
    "Mong các cơ quan sớm triển khai ở phường tôi.",
    "Thông tin rất hữu ích, tôi đã chia sẻ cho gia đình.",
    "Đường Nguyễn Văn Linh chiều nay còn ngập không ạ?",
    "Ủng hộ chủ trương này, nhưng cần hướng dẫn cụ thể hơn.",
    "Lịch tiếp công dân có thay đổi vào thứ Bảy không?",
    "Xin cảm ơn, thông báo rõ ràng và dễ hiểu.",
    "Người cao tuổi đăng ký ở đâu vậy ạ?",
    "Hy vọng lần này làm đến nơi đến chốn.",
]
FALSE_CLAIMS = [
    "Đây là tin giả, đừng tin! Thành phố không hề có chủ trương này.",
    "TIN GIẢ! Nghe nói ai đăng ký sẽ bị thu phí 500 nghìn, lừa đảo cả thôi.",
    "Thông tin sai sự thật, người nhà tôi ở phường bên nói khác hẳn.",
    "Cảnh giác lừa đảo: có người gọi điện xưng cán bộ phường bắt chuyển khoản.",
    "Bài này sai sự thật, đã bị gỡ ở trang khác rồi.",
]


@dataclass(frozen=True)
class CitizenComment:
    id: str
    """Unique within the platform, stable for the same seed."""
    author: str
    author_id: str
    text: str
    created: datetime


def _id(*parts: object) -> int:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:15], 16)


def _comment(platform: str, post_id: str, key: str, created: datetime, texts: list[str]) -> CitizenComment:
    rng = random.Random(f"{engagement.simulation.seed}:{platform}:{post_id}:{key}")
    author = rng.randrange(len(AUTHORS))
    return CitizenComment(
        id=str(_id(engagement.simulation.seed, platform, post_id, key)),
        author=AUTHORS[author],
        author_id=str(_id("citizen", author)),
        text=texts[rng.randrange(len(texts))],
        created=created,
    )


def comments(platform: str, post_id: str, published_at: datetime) -> list[CitizenComment]:
    """The citizens' comments on one post so far (sandbox clock), oldest first."""
    sim = engagement.simulation
    total, tau = sim.totals(platform, post_id)[COUNT_FIELD[platform]]
    age = sim.age(published_at)
    organic = []
    for i in range(int(total * (1 - math.exp(-age / tau)))):
        # the age at which the curve reaches i + 1 comments (always below ``age``)
        at = -tau * math.log(1 - (i + 1) / total)
        organic.append(_comment(platform, post_id, f"c{i}", sim.at(published_at, at), ORGANIC))
    played = [
        c
        for scenario in sim.scenarios
        if isinstance(scenario, Misinformation)
        for c in scenario.comments(platform, post_id, published_at, age)
    ]
    return sorted(organic + played, key=lambda c: (c.created, c.id))


@dataclass
class Misinformation:
    """A burst of comments with a false claim ``after_s`` (simulated) after each post."""

    after_s: float = 3600.0
    count: int = 30
    spread_s: float = 600.0

    def _ages(self, age_s: float) -> list[float]:
        step = self.spread_s / max(self.count - 1, 1)
        return [a for j in range(self.count) if (a := self.after_s + j * step) <= age_s]

    def adjust(self, platform: str, post_id: str, age_s: float, figures: dict[str, int]) -> dict[str, int]:
        field = COUNT_FIELD[platform]
        return {**figures, field: figures[field] + len(self._ages(age_s))}

    def comments(
        self, platform: str, post_id: str, published_at: datetime, age_s: float
    ) -> list[CitizenComment]:
        at = engagement.simulation.at
        return [
            _comment(platform, post_id, f"m{j}", at(published_at, a), FALSE_CLAIMS)
            for j, a in enumerate(self._ages(age_s))
        ]


def _misinformation(options: dict[str, Any]) -> Misinformation:
    played = Misinformation(**{k: v for k, v in options.items() if k in ("after_s", "count", "spread_s")})
    if set(options) - {"after_s", "count", "spread_s"}:
        raise ValueError(f"options: only after_s, count and spread_s are known, not {sorted(options)}")
    if not (isinstance(played.count, int) and 1 <= played.count <= 1000):
        raise ValueError("count: a whole number of comments from 1 to 1000")
    if float(played.after_s) < 0 or float(played.spread_s) < 0:
        raise ValueError("after_s, spread_s: seconds of simulated age, not negative")
    return played


engagement.SCENARIOS["misinformation"] = _misinformation
