"""The planning calendar as an iCalendar feed (RFC 5545) for staff calendars (one unit's).

Written by hand: a feed is a few VEVENTs, and the rules that matter are few (RFC 5545):
- §3.1: content lines end CRLF and are folded at 75 octets (a CRLF and one space), never inside a
  UTF-8 character (Vietnamese letters are 2–3 octets);
- §3.3.11: in TEXT, backslash, semicolon and comma are escaped (``\\\\``, ``\\;``, ``\\,``) and a
  newline is ``\\n``;
- §3.3.5: DTSTART/DTSTAMP in UTC (form 2, ``YYYYMMDDTHHMMSSZ``): no VTIMEZONE needed;
- §3.8.4.7: UID unique and stable: one per delivery (its id, which never changes), so a moved
  post updates the event in the staff calendar instead of adding one.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from services.tracker.calendar import Calendar, CalendarItem
from services.tracker.i18n import Translator

PRODID = "-//Loa//Lich phat hanh//VI"
FOLD_AT = 75
"""Octets per line, the CRLF excluded (RFC 5545 §3.1)."""
EVENT_LENGTH = timedelta(minutes=15)
"""A post is an instant; a short event makes it visible in day and week views."""
UID_DOMAIN = "loa.tracker"
TEXT_ESCAPES = (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\r\n", "\\n"), ("\n", "\\n"), ("\r", ""))
"""RFC 5545 §3.3.11, the backslash first."""


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11), NFC as everything Loa shows."""
    text = unicodedata.normalize("NFC", text)
    for raw, escaped in TEXT_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def fold(line: str) -> str:
    """One content line folded at ``FOLD_AT`` octets, between characters (RFC 5545 §3.1)."""
    out: list[str] = []
    current, size, limit = "", 0, FOLD_AT
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = "", 0, FOLD_AT - 1  # a continuation line starts with a space
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def utc_stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(item: CalendarItem, t: Translator, base_url: str, stamp: str) -> list[str]:
    state = t.state(item.state.value)
    urgent = f"[{t('urgent')}] " if item.priority == "urgent" else ""
    summary = f"{urgent}{item.title or item.content_id} ({t.channel(item.channel)}, {state})"
    description = f"{item.unit or ''} · {item.account} · {state}"
    return [
        "BEGIN:VEVENT",
        f"UID:{escape(item.delivery_id)}@{UID_DOMAIN}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{utc_stamp(item.at)}",
        f"DTEND:{utc_stamp(item.at + EVENT_LENGTH)}",
        f"SUMMARY:{escape(summary)}",
        f"DESCRIPTION:{escape(description)}",
        f"URL:{base_url}/contents/{item.content_id}",
        "STATUS:" + ("TENTATIVE" if item.held else "CONFIRMED"),
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def render(calendar: Calendar, name: str, base_url: str, now: datetime, t: Translator) -> str:
    """The feed: VCALENDAR with a VEVENT per delivery (``name``: the calendar's name, a unit's)."""
    stamp = utc_stamp(now)
    title = f"{t('calendar')}: {name}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(title)}",
        "X-WR-TIMEZONE:Asia/Ho_Chi_Minh",
    ]
    for day in calendar.days:
        for item in day.items:
            lines += _event(item, t, base_url.rstrip("/"), stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
