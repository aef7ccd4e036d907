"""One unit's planning calendar as an iCalendar feed (RFC 5545), read by a staff calendar with a
feed key: parsed here by the RFC's rules (no iCalendar library in requirements.lock): lines of at
most 75 octets folded between UTF-8 characters, TEXT escapes, UTC times, one stable UID per
delivery; the key opens its unit only, and not once revoked; issuing and revoking are audited."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from loa.events import DeliveryState, Priority
from loa.settings import LoaSettings
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.queries import start_of_today
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    auth,
    running_tracker,
    status,
    tracker_settings,
)

pytestmark = pytest.mark.integration
SO_Y_TE = "Sở Y tế Đà Nẵng"
VAN_PHONG = "Văn phòng Bộ"
VIEWER_SO_Y_TE = "viewer-so-y-te-token-0123456789abcdef-03"
FB = ("facebook", "trang-so-y-te")
LONG = (
    "Thông báo khẩn: tạm dừng tiêm chủng tại phường Hòa Khánh Bắc, Liên Chiểu; "
    'lịch mới theo "Kế hoạch 2/9" của Sở\\Phòng Nghiệp vụ Y, áp dụng từ thứ Hai'
)
S = DeliveryState


def unfold(text: str) -> list[str]:
    """RFC 5545 §3.1: every physical line ends CRLF and has at most 75 octets; a CRLF followed by
    one space or tab is removed."""
    assert text.endswith("\r\n")
    physical = text.split("\r\n")[:-1]
    too_long = [line for line in physical if len(line.encode("utf-8")) > 75]
    assert not too_long, too_long
    assert "\n" not in "".join(physical) and "\r" not in "".join(physical)
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]


def unescape(value: str) -> str:
    """RFC 5545 §3.3.11, one escape at a time (``\\\\,`` is a backslash then a comma)."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            assert nxt in "nN\\;,", f"not an RFC 5545 escape: \\{nxt}"
            i += 2
        else:
            assert value[i] not in ";,", f"unescaped {value[i]!r} in {value!r}"
            out.append(value[i])
            i += 1
    return "".join(out)


def events(text: str) -> list[dict[str, str]]:
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")  # no parameters in Loa's properties
            current[name] = value
    return found


async def _get(client: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    return await client.get(url, headers=headers)


async def test_a_units_feed_by_its_key_parses_as_rfc_5545_and_stops_when_revoked(
    settings: LoaSettings, db_url: str
) -> None:
    tomorrow_9 = start_of_today() + timedelta(days=1, hours=9)  # 02:00 UTC
    yesterday = start_of_today() - timedelta(hours=1)  # 23:00 yesterday in Vietnam
    contents = [
        approved(
            "tiem-chung", [FB], unit=SO_Y_TE, publish_at=tomorrow_9, title=LONG, priority=Priority.URGENT
        ),
        approved(
            "tong-ket",
            [FB],
            unit=SO_Y_TE,
            publish_at=yesterday,
            approved_at=yesterday,
            title="Tổng kết; tuần 48, Đà Nẵng",
        ),
        approved("tiep-dan", [("facebook", "trang-bo")], unit=VAN_PHONG, title="Lịch tiếp dân của Bộ"),
    ]
    statuses = [
        status("tiem-chung", *FB, S.HELD, 2, due_at=tomorrow_9, note="held"),
        status("tong-ket", *FB, S.PUBLISHED, 2, at=yesterday, due_at=yesterday),
        status("tiep-dan", "facebook", "trang-bo", S.SCHEDULED, 2, due_at=tomorrow_9),
    ]
    tokens = {
        **{name: {"token": token, "role": name} for name, token in TOKENS.items()},
        "xem-so-y-te": {"token": VIEWER_SO_Y_TE, "role": "viewer", "units": [SO_Y_TE]},
    }
    ts = tracker_settings(settings, db_url, tracker_tokens=tokens, tracker_consume=False)
    async with running_tracker(ts) as (app, client):
        await apply_content_events(app.state.tracker.engine, contents)
        await apply_statuses(app.state.tracker.engine, statuses)

        refused = await client.post(
            "/api/v1/calendar/feeds", json={"unit": SO_Y_TE}, headers=auth("operator")
        )
        assert refused.status_code == 403
        issued = await client.post("/api/v1/calendar/feeds", json={"unit": SO_Y_TE}, headers=auth("admin"))
        assert issued.status_code == 201, issued.text
        url = issued.json()["url"]
        key = url.split("key=")[1]
        assert url.startswith(
            "/api/v1/calendar/S%E1%BB%9F%20Y%20t%E1%BA%BF%20%C4%90%C3%A0%20N%E1%BA%B5ng.ics?key="
        )
        assert len(key) >= 43  # 256 bits, URL-safe base64

        feed = await _get(client, url)  # a staff calendar: no header, the key alone
        assert feed.status_code == 200, feed.text
        assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
        found = events(feed.text)
        by_uid = {e["UID"]: e for e in found}
        assert set(by_uid) == {
            "tiem-chung:facebook:trang-so-y-te@loa.tracker",
            "tong-ket:facebook:trang-so-y-te@loa.tracker",
        }, "the unit's deliveries alone"
        held = by_uid["tiem-chung:facebook:trang-so-y-te@loa.tracker"]
        expected = unicodedata.normalize("NFC", f"[Khẩn] {LONG} (Facebook, Tạm dừng)")
        assert unescape(held["SUMMARY"]) == expected
        assert "\\;" in held["SUMMARY"] and "\\," in held["SUMMARY"] and "\\\\" in held["SUMMARY"]
        assert held["DTSTART"] == tomorrow_9.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        assert held["DTSTART"].endswith("T020000Z")  # 09:00 in Vietnam
        assert held["STATUS"] == "TENTATIVE"
        sent = by_uid["tong-ket:facebook:trang-so-y-te@loa.tracker"]
        assert unescape(sent["SUMMARY"]) == "Tổng kết; tuần 48, Đà Nẵng (Facebook, Đã đăng)"
        assert datetime.strptime(sent["DTSTART"], "%Y%m%dT%H%M%SZ").hour == 16  # 23:00 in Vietnam
        again = await _get(client, url)
        assert [e["UID"] for e in events(again.text)] == [e["UID"] for e in found], "stable UIDs"

        # the key opens its unit only; a bearer token opens what it may read
        other = url.replace(url.split(".ics")[0], f"/api/v1/calendar/{VAN_PHONG}")
        assert (await _get(client, other)).status_code == 403
        assert (await _get(client, url.split("?")[0])).status_code == 401
        assert (await _get(client, url.split("?")[0] + "?key=" + "x" * 43)).status_code == 401
        bearer = {"Authorization": f"Bearer {VIEWER_SO_Y_TE}"}
        assert (await _get(client, url.split("?")[0], **bearer)).status_code == 200
        assert (await _get(client, f"/api/v1/calendar/{VAN_PHONG}.ics", **bearer)).status_code == 403

        listed = await client.get("/api/v1/calendar/feeds", headers=auth("admin"))
        [row] = listed.json()
        assert key not in listed.text and row["unit"] == SO_Y_TE and row["revoked_at"] is None
        revoked = await client.post(f"/api/v1/calendar/feeds/{row['id']}/revoke", headers=auth("admin"))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        assert (await _get(client, url)).status_code == 401
        twice = await client.post(f"/api/v1/calendar/feeds/{row['id']}/revoke", headers=auth("admin"))
        assert twice.status_code == 404

        audit = await client.get("/api/v1/audit", headers=auth("admin"))
        entries = [(e["action"], e["unit"], e["detail"]) for e in audit.json()["items"]]
        assert ("token_issued", SO_Y_TE, f"calendar feed {row['id']}") in entries
        assert ("token_revoked", SO_Y_TE, f"calendar feed {row['id']}") in entries
        assert key not in audit.text
