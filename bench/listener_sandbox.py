"""``python -m bench.listener_sandbox --posts N``: the sandbox, seeded with the listener bench's posts.

Its own process (``LOA_SANDBOX_PORT``, HTTP only), so the listener bench measures the listener's
memory without the emulators and their posts. The posts go straight into each emulator's state, as
if published (the platforms' publishing calls have their own quotas, and these posts are already
out). ``GET /_bench/listener/windows`` answers the calls each platform's window received, the
figures the bench checks against the emulated limits.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from typing import Any

import uvicorn

from bench.listener_plan import REFRESH, page_id, plan, x_user_id
from services.sandbox import facebook as fb
from services.sandbox import x as xs
from services.sandbox import youtube_state as yt
from services.sandbox.__main__ import HTTP, refuse_production
from services.sandbox.app import app
from services.sandbox.facebook import HOURLY_CALL_BUDGET
from services.sandbox.frame import sandbox


def seed(posts: int) -> None:
    """The plan's Pages, X users and posts in the emulators' state, published now."""
    now, wanted = sandbox.now(), plan(posts)
    for n, (page, token) in enumerate(wanted.pages.items()):
        fb.state().pages[page] = fb.Page(page, f"Trang {n}", token)
    for a, keys in enumerate(wanted.x_accounts.values()):
        xs.state.users[keys["access_token"]] = xs.XUser(id=x_user_id(a), username=f"so{a}", **keys)
    channel_id = yt.channel_of(REFRESH)
    for post in wanted.posts:
        if post.channel == "facebook":
            fb.state().posts[post.external_id] = fb.GraphPost(
                post.external_id, page_id(post.owner), "status", post.text, now
            )
        elif post.channel == "youtube":
            yt.state().videos[post.external_id] = yt.Video(
                post.external_id,
                channel_id,
                {"title": post.text, "description": ""},
                {"privacyStatus": "public", "uploadStatus": "processed"},
                1,
                hashlib.sha256(b"v").hexdigest(),
                now,
            )
        else:
            xs.state.tweets[post.external_id] = {
                "id": post.external_id,
                "text": post.text,
                "author_id": x_user_id(post.owner),
                "created_at": now.isoformat(),
            }


@app.get("/_bench/listener/windows", tags=["sandbox control"])
def windows() -> dict[str, Any]:
    """The most calls one Page, project or X account made in its window, and each window's limit."""
    used = [(endpoint, w.used) for (_, endpoint), w in xs.state.windows.items()]
    return {
        "facebook_calls_max_per_page_hour": max((len(p.calls) for p in fb.state().pages.values()), default=0),
        "facebook_limit_per_page_hour": HOURLY_CALL_BUDGET,
        "youtube_units_used": yt.state().used("default"),
        "x_calls_max_per_account_window": max((n for e, n in used if e == "lookup"), default=0),
        "x_searches_max_per_account_window": max((n for e, n in used if e == "search"), default=0),
        "x_limit_per_account_window": xs.state.tweet_window[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, required=True)
    refuse_production()
    seed(parser.parse_args().posts)
    port = int(os.environ.get("LOA_SANDBOX_PORT", "8090"))
    uvicorn.run(app, host="127.0.0.1", port=port, http=HTTP, log_level="warning")
