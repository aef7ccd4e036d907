"""An e-mail delivery's recipients in the tracker: the status event carries the per-recipient report
(ids only), the tracker resolves each id against the press list it holds, and shows names and
outlets only to who may see that list (a spokesperson of its unit); a viewer gets the counts and ids.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from loa.events import DeliveryState, delivery_id, topics
from loa.events.delivery import recipients_report
from loa.press import recipient_id
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)

pytestmark = pytest.mark.integration

UNIT = "Vụ Thông tin cơ sở"
OTHER = "Sở Thông tin và Truyền thông Đà Nẵng"
LIST = "bao-chi-trung-uong"
PEOPLE = [
    {"name": "Trần Thị Đào", "outlet": "Báo Tuổi Trẻ", "email": "dao.tran@tuoitre.example.vn"},
    {"name": "Nguyễn Văn Đạt", "outlet": "Đài Tiếng nói Việt Nam", "email": "dat.nguyen@vov.example.vn"},
    {"name": "Lê Thị Hương", "outlet": "Báo Đà Nẵng", "email": "huong.le@baodanang.example.vn"},
]
GONE = "cu.phong-vien@thanhnien.example.vn"
"""Was on the list when the release went; removed since: no name to find."""
SPOKESPERSON = "spokesperson-token-0123456789abcdef-012345"
OTHER_SPOKESPERSON = "spokesperson-other-0123456789abcdef-0123"
UNIT_VIEWER = "unit-viewer-token-0123456789abcdef-012345"
# RFC 5321 §4.2.1 / RFC 3463 enhanced codes: what a relay answers per recipient
BOUNCE = "5.1.1 <dat.nguyen@vov.example.vn>: Recipient address rejected: User unknown in virtual table"
GREYLIST = "4.7.1 Greylisted, please try again in 300 seconds"
STATES: dict[str, dict[str, Any]] = {
    recipient_id(PEOPLE[0]["email"]): {"state": "sent", "code": 250, "reply": "2.0.0 Ok: queued as 4QX2Wd1"},
    recipient_id(PEOPLE[1]["email"]): {"state": "bounced", "code": 550, "reply": BOUNCE},
    recipient_id(PEOPLE[2]["email"]): {"state": "deferred", "code": 451, "reply": GREYLIST},
    recipient_id(GONE): {"state": "sent", "code": 250, "reply": "2.0.0 Ok: queued as 4QX2We9"},
}


async def test_recipients_named_for_the_press_lists_spokesperson_and_counted_for_a_viewer(
    settings: LoaSettings, db_url: str
) -> None:
    await create_topics(settings)
    tokens: dict[str, Any] = {name: {"token": tok, "role": name} for name, tok in TOKENS.items()}
    tokens |= {
        "phat-ngon": {"token": SPOKESPERSON, "role": "spokesperson", "units": [UNIT]},
        "phat-ngon-da-nang": {"token": OTHER_SPOKESPERSON, "role": "spokesperson", "units": [OTHER]},
        "xem": {"token": UNIT_VIEWER, "role": "viewer", "units": [UNIT]},
    }
    bearer = {"spokesperson": SPOKESPERSON, "other": OTHER_SPOKESPERSON, "unit_viewer": UNIT_VIEWER}
    ts = tracker_settings(settings, db_url, tracker_tokens=tokens)
    cid = "thong-cao-bao-chi-2026-12-04"
    did = delivery_id(cid, "email", LIST)

    async with running_tracker(ts) as (_, client), producer(settings) as p:

        async def call(url: str, who: str) -> httpx.Response:
            headers = auth(who) if who in TOKENS else {"Authorization": f"Bearer {bearer[who]}"}
            return await client.get(url, headers=headers)

        people = [{**person, "unit": UNIT, "consent_date": "2025-10-01"} for person in PEOPLE]
        account = {"channel": "email", "name": LIST, "unit": UNIT, "options": {"recipients": people}}
        added = await client.post("/api/v1/accounts", headers=auth("admin"), json=account)
        assert added.status_code == 201, added.text

        await send(p, settings, topics.CONTENT, [approved(cid, targets=(("email", LIST),), unit=UNIT)])
        report = recipients_report(STATES)
        published = status(cid, "email", LIST, DeliveryState.PUBLISHED, 3, recipients=report)
        await send(p, settings, topics.DELIVERY, [published])
        url = f"/api/v1/deliveries/{did}/recipients"

        async def reported() -> bool:
            r = await call(url, "spokesperson")
            return r.status_code == 200 and r.json()["reported"]

        await eventually(reported, what="the recipients report")

        # a late event (an older sequence) with another report changes nothing: never backwards
        stale = recipients_report({recipient_id(PEOPLE[0]["email"]): {"state": "deferred", "code": 421}})
        await send(p, settings, topics.DELIVERY, [status(cid, "email", LIST, DeliveryState.RETRYING, 2,
                                                         recipients=stale)])  # fmt: skip
        marker = status(cid, "email", LIST, DeliveryState.PUBLISHED, 4)
        await send(p, settings, topics.DELIVERY, [marker])

        async def applied() -> bool:
            return (await call(f"/api/v1/contents/{cid}", "admin")).json()["deliveries"][0]["sequence"] == 4

        await eventually(applied, what="the later status event")

        seen = (await call(url, "spokesperson")).json()
        assert seen["names_shown"] is True
        assert seen["counts"] == {"sent": 2, "deferred": 1, "bounced": 1, "complained": 0}
        rows = [(r["name"], r["outlet"], r["state"], r["code"]) for r in seen["recipients"]]
        assert rows == [  # what needs a look first: bounced, deferred, then sent by name
            ("Nguyễn Văn Đạt", "Đài Tiếng nói Việt Nam", "bounced", 550),
            ("Lê Thị Hương", "Báo Đà Nẵng", "deferred", 451),
            ("Trần Thị Đào", "Báo Tuổi Trẻ", "sent", 250),
            (None, None, "sent", 250),  # removed from the list since: its id only
        ]
        assert seen["recipients"][0]["reply"] == (
            "5.1.1 <[địa chỉ]>: Recipient address rejected: User unknown in virtual table"
        )  # the relay named the address; the report never carries it
        assert seen["recipients"][3]["id"] == recipient_id(GONE)
        assert (await call(url, "admin")).json() == seen

        for who in ("unit_viewer", "viewer", "operator"):
            counted = (await call(url, who)).json()
            assert counted["names_shown"] is False, who
            assert counted["counts"] == seen["counts"], who
            assert {r["id"] for r in counted["recipients"]} == set(STATES), who
            assert all(r["name"] is None and r["outlet"] is None for r in counted["recipients"]), who
            text = json.dumps(counted, ensure_ascii=False)
            assert "Nguyễn Văn Đạt" not in text and "Tuổi Trẻ" not in text, who

        for who in ("spokesperson", "unit_viewer", "admin"):
            body = json.dumps((await call(url, who)).json(), ensure_ascii=False)
            assert "@" not in body, who  # no address, ever: not even the one the relay's bounce named

        refused = await call(url, "other")
        assert refused.status_code == 403
        assert "may not read" in refused.json()["error"]["message"]
        assert (await call(f"/api/v1/deliveries/{cid}:email:khong-co/recipients", "admin")).status_code == 404

        # the delivery page: the same rule
        page = (await call(f"/deliveries/{did}", "spokesperson")).text
        assert "Nguyễn Văn Đạt" in page and "Đài Tiếng nói Việt Nam" in page and "Bị trả lại" in page
        viewer_page = (await call(f"/deliveries/{did}", "unit_viewer")).text
        assert "Nguyễn Văn Đạt" not in viewer_page and recipient_id(PEOPLE[1]["email"]) in viewer_page
        assert "Tên và cơ quan báo chí chỉ hiển thị" in viewer_page
        english = (await client.get(f"/deliveries/{did}?lang=en", headers=auth("admin"))).text
        assert "Bounced" in english and "Greylisted" in english
