"""When each e-mail delivery really arrived: the bench's Mailpit, over its API.

``GET /api/v1/messages?start=&limit=`` lists the newest messages first, each with its
``MessageID`` (without the angle brackets) and ``Created``, the time Mailpit received it
(mailpit.axllent.org/docs/api-v1/view.html#get-/api/v1/messages). The e-mail channel's Message-ID
is ``loa.<content id>.<recipient id>@<domain>`` (``services/email/message.py``), so a content's
messages are found by their id; a delivery arrived when its press list's last message did.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

import httpx

from bench.e2e.observe import Delivery

PAGE = 1000
CHANNEL = "email"


def content_of(message_id: str) -> str | None:
    """The content id of an e-mail channel's Message-ID, or None for another sender's."""
    local = message_id.strip("<>").partition("@")[0]
    if not local.startswith("loa.") or local.count(".") < 2:
        return None
    return local.removeprefix("loa.").rsplit(".", 1)[0]


def arrivals(messages: list[dict[str, Any]]) -> dict[str, list[datetime]]:
    """Content id → the times Mailpit received each of its messages."""
    out: dict[str, list[datetime]] = {}
    for m in messages:
        content = content_of(str(m.get("MessageID", "")))
        if content is not None:
            out.setdefault(content, []).append(datetime.fromisoformat(m["Created"]))
    return out


def read_messages(mailpit_url: str) -> list[dict[str, Any]]:
    """Every message Mailpit holds, page by page."""
    found: list[dict[str, Any]] = []
    with httpx.Client(base_url=mailpit_url, timeout=120) as http:
        while True:
            r = http.get("/api/v1/messages", params={"start": len(found), "limit": PAGE})
            r.raise_for_status()
            page = r.json()["messages"]
            found += page
            if len(page) < PAGE:
                return found


def match(deliveries: list[Delivery], received: dict[str, list[datetime]], press_list: int) -> dict[str, Any]:
    """The sandbox check's figures for e-mail: ``gap`` = the tracker's published time − the last
    message's arrival; ``inconsistent``: a message before the approval, or published before the last
    message arrived; ``short``: published deliveries with fewer messages than the list has people."""
    gaps, bad, short = [], 0, 0
    for d in deliveries:
        if d.channel != CHANNEL or d.published_at is None:
            continue
        times = received.get(d.content_id)
        if not times:
            continue
        if len(times) < press_list:
            short += 1
        gap = (d.published_at - max(times)).total_seconds()
        gaps.append(gap)
        if gap < -0.05 or (d.approved_at is not None and min(times) < d.approved_at):
            bad += 1
    return {
        "matched": len(gaps),
        "gap_p50_ms": statistics.median(gaps) * 1000 if gaps else float("nan"),
        "inconsistent": bad,
        "messages": sum(len(received.get(d.content_id, [])) for d in deliveries if d.channel == CHANNEL),
        "short": short,
    }


def mailpit_check(mailpit_url: str, deliveries: list[Delivery], press_list: int) -> dict[str, Any]:
    """``{"email": figures}`` when the phase had e-mail deliveries (else nothing to read)."""
    if not any(d.channel == CHANNEL for d in deliveries):
        return {}
    return {CHANNEL: match(deliveries, arrivals(read_messages(mailpit_url)), press_list)}
