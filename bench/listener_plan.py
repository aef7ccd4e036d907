"""The listener bench's followed posts, derived from their count alone: both bench processes build it.

The sandbox process seeds its emulators with it (``bench/listener_sandbox.py``); the listener
process builds its accounts and followed rows from it (``bench/listener_poll.py``). Credentials are
derived from the index, so the two agree without passing secrets between processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

PAGES, X_ACCOUNTS = 2, 10
YOUTUBE_SHARE = 2000
REFRESH = "1//bench-refresh"
X_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def _token(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, ("loa-bench-listener", *parts))).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Post:
    content_id: str
    channel: str
    account: str
    external_id: str
    text: str
    owner: int
    """The index of its Page or X account."""


@dataclass
class Plan:
    """Facebook Pages (id → token), X accounts (name → keys), and the posts split 4:3:3."""

    pages: dict[str, str] = field(default_factory=dict)
    x_accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)


def page_id(p: int) -> str:
    return f"90000000000{p}"


def x_user_id(a: int) -> str:
    return str(5000 + a)


def plan(posts: int) -> Plan:
    out = Plan()
    share = {"facebook": posts * 4 // 10, "youtube": posts * 3 // 10}
    share["x"] = posts - share["facebook"] - share["youtube"]
    out.pages = {page_id(p): f"EAAG{_token('page', p)}" for p in range(PAGES)}
    out.x_accounts = {
        f"so-{a}": {k: f"{k}-{a}-{_token('x', a, k)}" for k in X_KEYS} for a in range(X_ACCOUNTS)
    }
    for i in range(share["facebook"]):
        page = page_id(i % PAGES)
        out.posts.append(
            Post(
                f"fb-{i}",
                "facebook",
                f"trang-{i % PAGES}",
                f"{page}_{i}",
                f"Thông báo số {i} của Sở",
                i % PAGES,
            )
        )
    for i in range(share["youtube"]):
        out.posts.append(Post(f"yt-{i}", "youtube", "kenh", f"v{i:010d}", "Họp báo", 0))
    for i in range(share["x"]):
        tweet_id = str(1_900_000_000_000_000_000 + i)
        out.posts.append(Post(f"x-{i}", "x", f"so-{i % X_ACCOUNTS}", tweet_id, f"Tin {i}", i % X_ACCOUNTS))
    return out
