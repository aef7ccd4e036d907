"""Every route of the ingest and the tracker × every role × a content of its own or another unit
gives the answer ``loa.access.policy`` gives (2xx or 403); docs/security.md shows the same table.

Real services on the real stack: uvicorn, Kafka for the tracker's commands, MinIO for media, the
tokens issued into the shared table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from loa.access.policy import Action, Policy
from loa.access.principal import Role
from loa.access.units import UnitTree
from loa.settings import LoaSettings
from services import access_matrix
from services.ingest.app import create_app as ingest_app
from services.tracker.app import create_app as tracker_app
from tests.conftest import Stack
from tests.security.access_support import (
    ACCOUNT_OF,
    MINISTRY,
    OTHER,
    OWN,
    UNITS,
    Stage,
    issue_token,
    seed_tracker,
    stage,
)
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

POLICY = Policy(UnitTree(UNITS))
SAMPLE_JPEG = Path(__file__).resolve().parents[2] / "samples" / "anh-bia.jpg"


@dataclass(frozen=True)
class Case:
    """One route: the action it needs, whether a unit is involved, and how to call it."""

    service: str
    method: str
    path: str
    action: Action
    on_unit: bool
    call: Callable[[Stage, httpx.Client, Role, str], httpx.Response]
    """(stage, client, role, unit) → the answer."""
    passed: tuple[int, ...] = ()
    """Answers besides 2xx that mean the access check let the call through (a 409 of a delivery
    that is not a late item is the route's own rule, after the policy said yes)."""
    body: str = ""
    """What the body sends that asks more than the route's own action (``access_matrix.body_actions``)."""


def _stream_status(client: httpx.Client, url: str, headers: dict[str, str]) -> httpx.Response:
    """An SSE route answers with its status and then streams: read the status only."""
    with client.stream("GET", url, headers=headers) as r:
        return r


def _submit(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    payload = submitted_payload(f"ma-{uuid.uuid4().hex[:10]}")
    payload |= {"unit": unit, "targets": [{"channel": "website", "account": ACCOUNT_OF[unit]}]}
    return c.post(f"{s.ingest}/api/v1/contents", json={"payload": payload}, headers=s.auth(role))


def _submit_correction(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    first = _submit(s, c, Role.ADMIN, unit)
    assert first.status_code == 202, first.text
    payload = submitted_payload(f"dc-{uuid.uuid4().hex[:10]}")
    payload |= {
        "unit": unit,
        "kind": "correction",
        "corrects": first.json()["id"],
        "title": "Đính chính: số liệu giải ngân vốn đầu tư công",
        "targets": [{"channel": "website", "account": ACCOUNT_OF[unit]}],
    }
    return c.post(f"{s.ingest}/api/v1/contents", json={"payload": payload}, headers=s.auth(role))


def _ingest_retract(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    first = _submit(s, c, Role.ADMIN, unit)
    assert first.status_code == 202, first.text
    url = f"{s.ingest}/api/v1/contents/{first.json()['id']}/retract"
    return c.post(url, json={"reason": "Đính chính số liệu"}, headers=s.auth(role))


def _awaiting_version(s: Stage, c: httpx.Client, unit: str) -> str:
    """A version an editor of ``unit`` submitted, waiting (the stage's units are under the rule)."""
    import asyncio

    token = asyncio.run(issue_token(s, f"editor-{uuid.uuid4().hex[:6]}", Role.EDITOR, unit))
    payload = submitted_payload(f"ma-{uuid.uuid4().hex[:10]}")
    payload |= {"unit": unit, "targets": [{"channel": "website", "account": ACCOUNT_OF[unit]}]}
    held = c.post(
        f"{s.ingest}/api/v1/contents", json={"payload": payload}, headers={"Authorization": f"Bearer {token}"}
    )
    assert held.json()["status"] == "awaiting_approval", held.text
    return f"{s.ingest}/api/v1/contents/{payload['id']}/versions/1"


def _approve(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.post(f"{_awaiting_version(s, c, unit)}/approve", headers=s.auth(role))


def _reject(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    url = f"{_awaiting_version(s, c, unit)}/reject"
    return c.post(url, json={"reason": "Cần bổ sung nguồn số liệu"}, headers=s.auth(role))


def _awaiting(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.get(f"{s.ingest}/api/v1/awaiting", headers=s.auth(role))


def _tracker_decision(decision: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    """The approvals page's approve / reject. A service account the policy lets through gets 403
    ``person_sign_in_required`` (it has no ID token for the ingest to verify), counted here as let
    through (204); the unit and the person are the ingest's to check (tests/e2e/test_approvals_page.py)."""

    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        url = f"{s.tracker}/api/v1/approvals/ma-{uuid.uuid4().hex[:10]}/1/{decision}"
        answer = c.post(url, json={"reason": "Cần bổ sung nguồn số liệu"}, headers=s.auth(role))
        if answer.status_code == 403 and answer.json()["error"]["code"] == "person_sign_in_required":
            return httpx.Response(204)
        return answer

    return call


def _upload(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    headers = {**s.auth(role), "Content-Type": "image/jpeg"}
    return c.post(f"{s.ingest}/api/v1/media", content=SAMPLE_JPEG.read_bytes(), headers=headers)


def _tracker_get(path: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        if "{id}" not in path:
            if path.endswith("/events"):
                return _stream_status(c, f"{s.tracker}{path}", s.auth(role))
            return c.get(f"{s.tracker}{path}", headers=s.auth(role))
        cid = _seed(s, unit)
        url = f"{s.tracker}{path.format(id=cid)}"
        return (
            _stream_status(c, url, s.auth(role))
            if path.endswith("/events")
            else c.get(url, headers=s.auth(role))
        )

    return call


def _archive_export(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    """One content's archive; the stage signs no export (503 after the access check let it by)."""
    return c.get(
        f"{s.tracker}/api/v1/archive/export", params={"content_id": _seed(s, unit)}, headers=s.auth(role)
    )


def _report(path: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    """A unit's report (the current month): the unit named in the query, checked as a content's is."""

    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        return c.get(f"{s.tracker}{path}", params={"unit": unit}, headers=s.auth(role))

    return call


def _seed(s: Stage, unit: str) -> str:
    import asyncio

    return asyncio.run(seed_tracker(s.tracker_db, unit))


def _delivery_action(verb: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        did = f"{_seed(s, unit)}:website:{ACCOUNT_OF[unit]}"
        return c.post(f"{s.tracker}/api/v1/deliveries/{did}/{verb}", headers=s.auth(role))

    return call


def _delivery_get(path: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    """A delivery of ``unit``'s content (its recipients: names only with ``manage_press_lists``)."""

    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        did = f"{_seed(s, unit)}:website:{ACCOUNT_OF[unit]}"
        return c.get(f"{s.tracker}{path.format(id=did)}", headers=s.auth(role))

    return call


def _tracker_retract(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    url = f"{s.tracker}/api/v1/contents/{_seed(s, unit)}/retract"
    return c.post(url, json={"reason": "Gỡ bài đăng nhầm đơn vị"}, headers=s.auth(role))


def _hold(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.post(f"{s.tracker}/api/v1/holds", json={"reason": "Tạm dừng chờ xác minh"}, headers=s.auth(role))


def _release(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    held = _hold(s, c, Role.ADMIN, unit)
    assert held.status_code == 201, held.text
    url = f"{s.tracker}/api/v1/holds/{held.json()['id']}/release"
    return c.post(url, json={"reason": "Đã xác minh"}, headers=s.auth(role))


def _late(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    did = f"{_seed(s, unit)}:website:{ACCOUNT_OF[unit]}"
    return c.post(
        f"{s.tracker}/api/v1/deliveries/{did}/late", json={"action": "send_now"}, headers=s.auth(role)
    )


def _reschedule(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    did = f"{_seed(s, unit)}:website:{ACCOUNT_OF[unit]}"
    at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return c.post(f"{s.tracker}/api/v1/deliveries/{did}/reschedule", json={"at": at}, headers=s.auth(role))


def _ics(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.get(f"{s.tracker}/api/v1/calendar/{quote(unit, safe='')}.ics", headers=s.auth(role))


def _issue_feed(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.post(f"{s.tracker}/api/v1/calendar/feeds", json={"unit": unit}, headers=s.auth(role))


def _revoke_feed(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.post(f"{s.tracker}/api/v1/calendar/feeds/0123456789abcdef/revoke", headers=s.auth(role))


ACCOUNT_PATH = "/api/v1/accounts/{channel}/{name}"


def _account_body() -> dict[str, object]:
    return {"channel": "website", "name": f"trang-{uuid.uuid4().hex[:8]}", "unit": OWN}


def _add_account(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.post(f"{s.tracker}/api/v1/accounts", json=_account_body(), headers=s.auth(role))


def _account_url(s: Stage, c: httpx.Client) -> str:
    added = _add_account(s, c, Role.ADMIN, OWN)
    assert added.status_code == 201, added.text
    return f"{s.tracker}/api/v1/accounts/website/{added.json()['name']}"


def _change_account(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.patch(_account_url(s, c), json={"options": {"url": "https://mic.gov.vn"}}, headers=s.auth(role))


CONNECT_APPS = {
    "zalo": {"app_id": "4318569247", "secret_key": "Zq7tLxP2vN9sKd4W"},
    "facebook": {"app_id": "802345678901234", "app_secret": "9f3c2a7b5e1d4c6a", "page_id": "104857600000001"},
    "youtube": {"client_id": "318273645091-4k2j.apps.googleusercontent.com", "client_secret": "GOCSPX-7hQm"},
    "x": {"client_id": "M1ZwTjRkVGhQN2xRcUVnOWNjYnE6MTpjaQ", "client_secret": "kq8Vn2Lr5Tz9Xw3P"},
}


def _connect(channel: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        body = {"name": f"{channel}-so-da-nang", "unit": OWN, **CONNECT_APPS[channel]}
        return c.post(f"{s.tracker}/api/v1/accounts/connect/{channel}", json=body, headers=s.auth(role))

    return call


def _pick_account(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    """A pick token nobody holds: the admin passes the check and gets 404 (no such choice)."""
    body = {"pick": "không-có-lượt-chọn-nào", "choice": "104857600000001"}
    return c.post(f"{s.tracker}/api/v1/accounts/connect/facebook/pick", json=body, headers=s.auth(role))


def _remove_account(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.delete(_account_url(s, c), headers=s.auth(role))


PRESS_LIST_PATH = "/api/v1/press-lists/{name}"
JOURNALIST = {
    "name": "Trần Thị Đào",
    "outlet": "Báo Tuổi Trẻ",
    "email": "dao.tran@tuoitre.example.vn",
    "unit": "Vụ Thông tin cơ sở",
    "consent_date": "2025-10-01",
}


def _press_list_url(s: Stage, c: httpx.Client, unit: str) -> str:
    """A press list of ``unit`` (the e-mail account an admin adds), with one journalist."""
    name = f"bao-chi-{uuid.uuid4().hex[:8]}"
    body = {"channel": "email", "name": name, "unit": unit, "options": {"recipients": [JOURNALIST]}}
    added = c.post(f"{s.tracker}/api/v1/accounts", json=body, headers=s.auth(Role.ADMIN))
    assert added.status_code == 201, added.text
    return f"{s.tracker}/api/v1/press-lists/{name}"


def _get_press_list(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    return c.get(_press_list_url(s, c, unit), headers=s.auth(role))


def _set_press_list(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    body = {"people": [JOURNALIST, {**JOURNALIST, "email": "dat.nguyen@nhandan.example.vn"}]}
    return c.put(_press_list_url(s, c, unit), json=body, headers=s.auth(role))


async def _seed_comment_of(s: Stage, unit: str) -> int:
    """A citizen's comment on a content of ``unit``, as the listener's event leaves it; its id."""
    from loa.events import Comments, CommentsObserved, PostComment, utcnow
    from services.tracker.comments import list_comments, record_comments
    from services.tracker.db import make_engine
    from services.tracker.watch import VolumeRule

    cid = await seed_tracker(s.tracker_db, unit)
    said = PostComment(
        external_id=uuid.uuid4().hex, text="Cho hỏi thủ tục này nộp ở đâu ạ?", created_at=utcnow()
    )
    listed = Comments(
        content_id=cid,
        version=1,
        channel="facebook",
        account="trang-chinh",
        external_id=f"1000_{cid}",
        observed_at=utcnow(),
        comments=[said],
    )
    engine = make_engine(s.tracker_db)
    try:
        await record_comments(engine, [CommentsObserved(payload=listed)], [], VolumeRule())
        [found] = await list_comments(engine, None, content_id=cid)
        return found.id
    finally:
        await engine.dispose()


def _mark_comment(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    import asyncio

    comment = asyncio.run(_seed_comment_of(s, unit))
    body = {"state": "escalated", "note": "Chuyển người phát ngôn trả lời"}
    return c.post(f"{s.tracker}/api/v1/comments/{comment}/state", json=body, headers=s.auth(role))


def _comment_action(action: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    """Reply to or hide a fresh comment (the command goes to Kafka; no publisher needs to answer)."""

    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        import asyncio

        comment = asyncio.run(_seed_comment_of(s, unit))
        body = (
            {"text": "Cảm ơn anh/chị, thủ tục nộp tại bộ phận một cửa của phường."}
            if action == "reply"
            else None
        )
        return c.post(f"{s.tracker}/api/v1/comments/{comment}/{action}", json=body, headers=s.auth(role))

    return call


def _watchlist(method: str) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        body = {"phrases": ["tin giả", "lừa đảo"]} if method == "PUT" else None
        return c.request(method, f"{s.tracker}/api/v1/watchlists/{unit}", json=body, headers=s.auth(role))

    return call


INCIDENT_TITLE = "Tin giả về dịch sốt xuất huyết ở Đà Nẵng"


def _open_incident(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
    body = {"title": INCIDENT_TITLE, "severity": "high", "units": [unit]}
    return c.post(f"{s.tracker}/api/v1/incidents", json=body, headers=s.auth(role))


def _incident_call(
    method: str, suffix: str, body: dict[str, str] | None = None, closed: bool = False
) -> Callable[[Stage, httpx.Client, Role, str], httpx.Response]:
    """On an incident of ``unit`` the admin opened (and closed, for the report)."""

    def call(s: Stage, c: httpx.Client, role: Role, unit: str) -> httpx.Response:
        opened = _open_incident(s, c, Role.ADMIN, unit)
        assert opened.status_code == 201, opened.text
        url = f"{s.tracker}/api/v1/incidents/{opened.json()['id']}"
        if closed:
            assert c.post(f"{url}/close", headers=s.auth(Role.ADMIN)).status_code == 200
        if suffix.startswith("page"):
            url = url.replace("/api/v1", "")
        elif suffix:
            url += suffix
        return c.request(method, url, json=body, headers=s.auth(role))

    return call


CASES = [
    Case("ingest", "POST", "/api/v1/media", Action.UPLOAD_MEDIA, False, _upload),
    Case("ingest", "POST", "/api/v1/contents", Action.SUBMIT, True, _submit),
    Case(
        "ingest",
        "POST",
        "/api/v1/contents",
        Action.PUBLISH_CORRECTION,
        True,
        _submit_correction,
        body="`payload.kind` = `correction`",
    ),
    Case("ingest", "POST", "/api/v1/contents/{content_id}/retract", Action.RETRACT, True, _ingest_retract),
    Case("ingest", "GET", "/api/v1/awaiting", Action.READ, False, _awaiting),
    Case(
        "ingest",
        "POST",
        "/api/v1/contents/{content_id}/versions/{version}/approve",
        Action.APPROVE,
        True,
        _approve,
    ),
    Case(
        "ingest",
        "POST",
        "/api/v1/contents/{content_id}/versions/{version}/reject",
        Action.REJECT,
        True,
        _reject,
    ),
    Case("tracker", "GET", "/", Action.READ, False, _tracker_get("/")),
    Case("tracker", "GET", "/approvals", Action.READ, False, _tracker_get("/approvals")),
    Case(
        "tracker",
        "POST",
        "/api/v1/approvals/{content_id}/{version}/approve",
        Action.APPROVE,
        False,
        _tracker_decision("approve"),
    ),
    Case(
        "tracker",
        "POST",
        "/api/v1/approvals/{content_id}/{version}/reject",
        Action.REJECT,
        False,
        _tracker_decision("reject"),
    ),
    Case("tracker", "GET", "/units", Action.READ, False, _tracker_get("/units")),
    Case("tracker", "GET", "/contents/{content_id}", Action.READ, True, _tracker_get("/contents/{id}")),
    Case("tracker", "GET", "/api/v1/contents", Action.READ, False, _tracker_get("/api/v1/contents")),
    Case(
        "tracker",
        "GET",
        "/api/v1/contents/{content_id}",
        Action.READ,
        True,
        _tracker_get("/api/v1/contents/{id}"),
    ),
    Case(
        "tracker",
        "GET",
        "/api/v1/contents/{content_id}/events",
        Action.READ,
        True,
        _tracker_get("/api/v1/contents/{id}/events"),
    ),
    Case(
        "tracker",
        "GET",
        "/api/v1/contents/{content_id}/engagement",
        Action.READ,
        True,
        _tracker_get("/api/v1/contents/{id}/engagement"),
    ),
    Case("tracker", "GET", "/api/v1/deliveries", Action.READ, False, _tracker_get("/api/v1/deliveries")),
    Case(
        "tracker",
        "GET",
        "/api/v1/deliveries/{delivery_id}/recipients",
        Action.READ,
        True,
        _delivery_get("/api/v1/deliveries/{id}/recipients"),
    ),
    Case("tracker", "GET", "/deliveries/{delivery_id}", Action.READ, True, _delivery_get("/deliveries/{id}")),
    Case("tracker", "GET", "/api/v1/stats", Action.READ, False, _tracker_get("/api/v1/stats")),
    Case("tracker", "GET", "/reports", Action.READ, True, _report("/reports")),
    Case("tracker", "GET", "/api/v1/reports", Action.READ, True, _report("/api/v1/reports")),
    Case("tracker", "GET", "/api/v1/reports.csv", Action.EXPORT, True, _report("/api/v1/reports.csv")),
    Case("tracker", "GET", "/api/v1/reports.{fmt}", Action.READ, True, _report("/api/v1/reports.png")),
    Case("tracker", "GET", "/api/v1/events", Action.READ, False, _tracker_get("/api/v1/events")),
    Case(
        "tracker",
        "POST",
        "/api/v1/deliveries/{delivery_id}/retry",
        Action.RETRY,
        True,
        _delivery_action("retry"),
    ),
    Case(
        "tracker",
        "POST",
        "/api/v1/deliveries/{delivery_id}/cancel",
        Action.CANCEL,
        True,
        _delivery_action("cancel"),
    ),
    Case("tracker", "POST", "/api/v1/contents/{content_id}/retract", Action.RETRACT, True, _tracker_retract),
    Case("tracker", "GET", "/api/v1/audit", Action.READ_AUDIT, False, _tracker_get("/api/v1/audit")),
    Case("tracker", "GET", "/audit", Action.READ_AUDIT, False, _tracker_get("/audit")),
    Case("tracker", "GET", "/api/v1/holds", Action.READ, False, _tracker_get("/api/v1/holds")),
    Case("tracker", "GET", "/api/v1/holds/late", Action.READ, False, _tracker_get("/api/v1/holds/late")),
    Case("tracker", "POST", "/api/v1/holds", Action.HOLD, False, _hold),
    Case("tracker", "POST", "/api/v1/holds/{hold_id}/release", Action.HOLD, False, _release),
    Case("tracker", "POST", "/api/v1/deliveries/{delivery_id}/late", Action.HOLD, True, _late, (409,)),
    Case(
        "tracker",
        "POST",
        "/api/v1/deliveries/{delivery_id}/reschedule",
        Action.HOLD,
        True,
        _reschedule,
        (409,),
    ),
    Case("tracker", "GET", "/calendar", Action.READ, True, _report("/calendar")),
    Case("tracker", "GET", "/archive", Action.READ, False, _tracker_get("/archive")),
    Case("tracker", "GET", "/api/v1/archive/export", Action.EXPORT, True, _archive_export, (503,)),
    Case("tracker", "GET", "/api/v1/calendar", Action.READ, True, _report("/api/v1/calendar")),
    Case("tracker", "GET", "/api/v1/calendar/{unit}.ics", Action.READ, True, _ics),
    Case(
        "tracker",
        "GET",
        "/api/v1/calendar/feeds",
        Action.MANAGE_TOKENS,
        False,
        _tracker_get("/api/v1/calendar/feeds"),
    ),
    Case("tracker", "POST", "/api/v1/calendar/feeds", Action.MANAGE_TOKENS, False, _issue_feed),
    Case(
        "tracker",
        "POST",
        "/api/v1/calendar/feeds/{feed_id}/revoke",
        Action.MANAGE_TOKENS,
        False,
        _revoke_feed,
        (404,),
    ),
    Case(
        "tracker", "GET", "/api/v1/accounts", Action.MANAGE_ACCOUNTS, False, _tracker_get("/api/v1/accounts")
    ),
    Case(
        "tracker", "GET", "/api/v1/account-units", Action.READ, False, _tracker_get("/api/v1/account-units")
    ),
    Case("tracker", "POST", "/api/v1/accounts", Action.MANAGE_ACCOUNTS, False, _add_account),
    Case("tracker", "GET", "/accounts", Action.MANAGE_ACCOUNTS, False, _tracker_get("/accounts")),
    *(
        Case("tracker", "POST", f"/api/v1/accounts/connect/{c}", Action.MANAGE_ACCOUNTS, False, _connect(c))
        for c in CONNECT_APPS
    ),
    Case(
        "tracker",
        "POST",
        "/api/v1/accounts/connect/{channel}/pick",
        Action.MANAGE_ACCOUNTS,
        False,
        _pick_account,
        passed=(404,),
    ),
    Case("tracker", "PATCH", ACCOUNT_PATH, Action.MANAGE_ACCOUNTS, False, _change_account),
    Case("tracker", "DELETE", ACCOUNT_PATH, Action.MANAGE_ACCOUNTS, False, _remove_account),
    Case("tracker", "GET", "/api/v1/incidents", Action.READ, False, _tracker_get("/api/v1/incidents")),
    Case("tracker", "POST", "/api/v1/incidents", Action.MANAGE_INCIDENT, True, _open_incident),
    Case("tracker", "GET", "/api/v1/incidents/{incident_id}", Action.READ, True, _incident_call("GET", "")),
    Case(
        "tracker",
        "POST",
        "/api/v1/incidents/{incident_id}/notes",
        Action.MANAGE_INCIDENT,
        True,
        _incident_call("POST", "/notes", {"text": "Đã liên hệ Sở Y tế để xác minh"}),
    ),
    Case(
        "tracker",
        "POST",
        "/api/v1/incidents/{incident_id}/close",
        Action.MANAGE_INCIDENT,
        True,
        _incident_call("POST", "/close"),
    ),
    Case(
        "tracker",
        "GET",
        "/api/v1/incidents/{incident_id}/report",
        Action.READ,
        True,
        _incident_call("GET", "/report", closed=True),
    ),
    Case("tracker", "GET", "/incidents", Action.READ, False, _tracker_get("/incidents")),
    Case(
        "tracker",
        "GET",
        "/api/v1/press-lists",
        Action.MANAGE_PRESS_LISTS,
        False,
        _tracker_get("/api/v1/press-lists"),
    ),
    Case("tracker", "GET", PRESS_LIST_PATH, Action.MANAGE_PRESS_LISTS, True, _get_press_list),
    Case("tracker", "PUT", PRESS_LIST_PATH, Action.MANAGE_PRESS_LISTS, True, _set_press_list),
    Case("tracker", "GET", "/incidents/{incident_id}", Action.READ, True, _incident_call("GET", "page")),
    Case("tracker", "GET", "/inbox", Action.READ, False, _tracker_get("/inbox")),
    Case("tracker", "GET", "/api/v1/comments", Action.READ, False, _tracker_get("/api/v1/comments")),
    Case("tracker", "GET", "/api/v1/watch/alerts", Action.READ, False, _tracker_get("/api/v1/watch/alerts")),
    Case(
        "tracker",
        "POST",
        "/api/v1/comments/{comment_id}/state",
        Action.MODERATE_COMMENTS,
        True,
        _mark_comment,
    ),
    *(
        Case(
            "tracker",
            "POST",
            f"/api/v1/comments/{{comment_id}}/{action}",
            Action.MODERATE_COMMENTS,
            True,
            _comment_action(action),
        )
        for action in ("reply", "hide")
    ),
    Case("tracker", "GET", "/api/v1/watchlists/{unit}", Action.READ, True, _watchlist("GET")),
    Case("tracker", "PUT", "/api/v1/watchlists/{unit}", Action.MANAGE_WATCHLIST, True, _watchlist("PUT")),
]


@pytest.fixture(scope="module")
def access_stage(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    tag = f"t-{uuid.uuid4().hex[:8]}"
    base = LoaSettings(kafka_bootstrap=stack.kafka_bootstrap, topic_prefix=f"{tag}.")
    with stage(stack, base, tmp_path_factory.mktemp("access"), two_person_units=[MINISTRY]) as s:
        yield s


def test_every_route_with_an_action_has_a_case_here() -> None:
    """A new route without a declared action, or without a row here, fails this test."""
    apps = {"ingest": ingest_app(), "tracker": tracker_app()}
    declared = {
        (service, method, path): action
        for service, app in apps.items()
        for method, path, action in access_matrix.routes(app)
        if action is not None
    }
    assert declared == {(c.service, c.method, c.path): c.action for c in CASES if not c.body}
    by_body = {(c.service, f"{c.method} {c.path}", c.body, c.action) for c in CASES if c.body}
    assert by_body == set(access_matrix.body_actions())


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.service} {c.method} {c.path} {c.body}".strip())
def test_each_role_on_its_own_and_another_unit_gets_what_the_policy_says(
    access_stage: Stage, case: Case
) -> None:
    outcomes = []
    with httpx.Client(timeout=30) as client:
        for role, principal in access_stage.principals.items():
            for unit in (OWN, OTHER) if case.on_unit else (OWN,):
                allowed = POLICY.may(principal, case.action, unit if case.on_unit else None)
                answer = case.call(access_stage, client, role, unit)
                through = 200 <= answer.status_code < 300 or answer.status_code in case.passed
                ok = through if allowed else answer.status_code == 403
                outcomes.append((role.value, unit, allowed, answer.status_code, ok))
    assert all(o[-1] for o in outcomes), [o for o in outcomes if not o[-1]]


def test_the_matrix_in_docs_security_md_is_the_policy() -> None:
    """Rewrite it with ``python -m services.access_matrix``."""
    text = access_matrix.DOC.read_text(encoding="utf-8")
    start = text.index(access_matrix.BEGIN)
    end = text.index(access_matrix.END) + len(access_matrix.END)
    assert text[start:end] == access_matrix.render()


def test_urgent_content_needs_publish_urgent_on_its_unit_and_a_refusal_names_the_field(
    access_stage: Stage,
) -> None:
    """``priority: urgent`` is asked of the body, not of a route: no Case row, the same policy."""
    outcomes = []
    with httpx.Client(timeout=30) as client:
        for role, principal in access_stage.principals.items():
            for unit in (OWN, OTHER):
                payload = submitted_payload(f"khan-{uuid.uuid4().hex[:10]}")
                payload |= {"unit": unit, "targets": [{"channel": "website", "account": ACCOUNT_OF[unit]}]}
                payload |= {"priority": "urgent", "title": "KHẨN: Cảnh báo lũ quét tại Đắk Lắk"}
                answer = client.post(
                    f"{access_stage.ingest}/api/v1/contents",
                    json={"payload": payload},
                    headers=access_stage.auth(role),
                )
                may_submit = POLICY.may(principal, Action.SUBMIT, unit)
                allowed = may_submit and POLICY.may(principal, Action.PUBLISH_URGENT, unit)
                ok = 200 <= answer.status_code < 300 if allowed else answer.status_code == 403
                if ok and may_submit and not allowed:  # past submit: refused for the lane, by name
                    fields = [f["field"] for f in answer.json()["error"]["fields"]]
                    ok = fields == ["payload.priority"]
                outcomes.append((role.value, unit, allowed, answer.status_code, ok))
    assert all(o[-1] for o in outcomes), [o for o in outcomes if not o[-1]]
    assert any(o[2] for o in outcomes) and any(not o[2] and o[3] == 403 for o in outcomes)
