"""X API v2 recent search for a post's replies: ``GET /2/tweets/search/recent?query=conversation_id:<id>``.

Written from https://docs.x.com/x-api/posts/search-recent-posts and the conversation guide
(https://docs.x.com/x-api/fundamentals/conversation-id): ``query`` is required; a reply carries
``conversation_id`` (the id of the post that started it) and ``in_reply_to_user_id``; ``tweet.fields``
adds ``created_at``, ``author_id``, ``conversation_id``; ``max_results`` 10–100 (default 10);
``next_token`` pages; newest first; ``meta.result_count``, ``newest_id``, ``oldest_id``. Recent
search covers the last seven days. Only the ``conversation_id:`` operator is emulated; another query
answers 400 as an invalid query would. The replies are the seeded citizens' comments, and the posts
made in reply to them (the office's answers, ``in_reply_to_tweet_id`` a citizen's reply: their
``conversation_id`` is the post's).

Hiding a reply (docs.x.com/x-api/posts/hide-replies; tweepy ``Client.hide_reply``):
``PUT /2/tweets/:id/hidden`` with ``{"hidden": true}`` answers ``{"data": {"hidden": true}}``; only
the author of the conversation's first post may (403 otherwise; the emulator's wording); an id
that is no reply it knows answers 404 resource-not-found (the emulator's choice: the page read does
not show that answer).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from services.sandbox import citizen_comments
from services.sandbox.frame import sandbox
from services.sandbox.x import CITIZEN_REPLIES, PLATFORM, _gate, _invalid, _problem, _with_limits, state

router = APIRouter(prefix="/x", tags=["X API v2 emulator"])
RECENT = timedelta(days=7)
hidden: set[str] = set()
"""Replies hidden by the conversation's author (kept until the process ends, as the tweets are)."""


def citizen_reply(reply_id: str) -> dict[str, Any] | None:
    """The post whose conversation a citizens' reply ``reply_id`` is in, or None."""
    for tweet in list(state.tweets.values()):
        if tweet.get("in_reply_to_tweet_id"):
            continue
        created = datetime.fromisoformat(tweet["created_at"])
        if any(c.id == reply_id for c in citizen_comments.comments(PLATFORM, tweet["id"], created)):
            return tweet
    return None


CITIZEN_REPLIES.append(citizen_reply)


@router.put("/2/tweets/{tweet_id}/hidden")
async def hide_reply(tweet_id: str, request: Request) -> Response:
    user = await _gate(request, "hide")
    wanted = bool((await request.json()).get("hidden"))
    conversation = citizen_reply(tweet_id)
    if conversation is None:
        detail = f"Could not find tweet with id: [{tweet_id}]."
        kind = "https://api.twitter.com/2/problems/resource-not-found"
        return _problem(404, "Not Found Error", detail, kind)
    if conversation["author_id"] != user.id:
        return _problem(403, "Forbidden", "You are not permitted to hide replies to this conversation.")
    (hidden.add if wanted else hidden.discard)(tweet_id)
    sandbox.record(PLATFORM, "reply_hidden", {"id": tweet_id, "hidden": wanted})
    return _with_limits(request, {"data": {"hidden": wanted}})


@router.get("/2/tweets/search/recent")
async def search_recent(request: Request) -> Response:
    await _gate(request, "search")
    query = request.query_params.get("query", "").strip()
    if not query.startswith("conversation_id:") or not query.partition(":")[2].isdigit():
        return _invalid("query", "The emulator answers only conversation_id:<post id> queries.")
    conversation = query.partition(":")[2]
    tweet = state.tweets.get(conversation)
    if tweet is None:
        return _with_limits(request, {"meta": {"result_count": 0}})
    since = sandbox.now() - RECENT
    found = [
        c
        for c in citizen_comments.comments(
            PLATFORM, conversation, datetime.fromisoformat(tweet["created_at"])
        )
        if c.created >= since
    ]
    answers = [
        t
        for t in state.tweets.values()
        if t.get("in_reply_to_tweet_id") and t.get("conversation_id") == conversation
    ]
    found = sorted(found + [_answer(t) for t in answers], key=lambda c: (c.created, c.id))[::-1]
    per_page = max(10, min(int(request.query_params.get("max_results", "10")), 100))
    start = int(request.query_params.get("next_token") or 0)
    fields = set(request.query_params.get("tweet.fields", "").split(","))
    data = []
    for c in found[start : start + per_page]:
        item: dict[str, Any] = {"id": c.id, "text": c.text, "edit_history_tweet_ids": [c.id]}
        extra = {
            "created_at": c.created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "author_id": c.author_id,
            "conversation_id": conversation,
            "in_reply_to_user_id": tweet["author_id"],
        }
        item.update({k: v for k, v in extra.items() if k in fields})
        data.append(item)
    if not data:
        return _with_limits(request, {"meta": {"result_count": 0}})
    meta: dict[str, Any] = {
        "result_count": len(data),
        "newest_id": data[0]["id"],
        "oldest_id": data[-1]["id"],
    }
    if start + per_page < len(found):
        meta["next_token"] = str(start + per_page)
    return _with_limits(request, {"data": data, "meta": meta})


def _answer(tweet: dict[str, Any]) -> citizen_comments.CitizenComment:
    """A post made in reply inside the conversation (the office's answer), listed as a reply."""
    return citizen_comments.CitizenComment(
        id=tweet["id"],
        author=tweet["author_id"],
        author_id=tweet["author_id"],
        text=tweet["text"],
        created=datetime.fromisoformat(tweet["created_at"]),
    )
