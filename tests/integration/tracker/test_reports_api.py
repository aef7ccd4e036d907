"""The leadership report on the real stack: contents, statuses and the listener's figures through Kafka
into the tracker (SQLite and PostgreSQL), then ``/api/v1/reports``, its CSV and ``/metrics`` as a
unit's viewer, another unit's viewer and an admin see them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from loa.events import (
    Comments,
    CommentsObserved,
    ContentApproved,
    DeliveryState,
    DeliveryStatus,
    EngagementObserved,
    Metric,
    PostComment,
    topics,
    utcnow,
)
from loa.settings import LoaSettings
from services.tracker import queries
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    auth,
    create_topics,
    eventually,
    observed,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)
from tests.unit.tracker.test_report_listening import LISTENING

pytestmark = pytest.mark.integration
SO_Y_TE = "Sở Y tế Đà Nẵng"
VAN_PHONG = "Văn phòng Bộ"
VIEWER_SO_Y_TE = "viewer-so-y-te-token-0123456789abcdef-01"
MIDNIGHT = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
"""00:00 on 1 March 2026 in Asia/Ho_Chi_Minh."""
FB = ("facebook", "trang-so-y-te")
X = ("x", "so_yte_danang")
PUB = DeliveryState.PUBLISHED


def sec(n: float) -> timedelta:
    return timedelta(seconds=n)


def march_events() -> tuple[list[ContentApproved], list[DeliveryStatus], list[EngagementObserved]]:
    """Contents of two units in March (and at its edges), their statuses, and the listener's figures."""
    due = MIDNIGHT + timedelta(days=9)  # 10 March, 07:00 in Vietnam
    contents = [
        approved("tiem-chung-dot-3", [FB, X], unit=SO_Y_TE, approved_at=due - sec(600), publish_at=due,
                 title="Đợt tiêm chủng thứ ba: lịch tại các phường của Đà Nẵng"),
        approved("canh-bao-sot-xuat-huyet", [FB], unit=SO_Y_TE, approved_at=due - sec(600), publish_at=due,
                 title="Cảnh báo sốt xuất huyết mùa mưa"),
        approved("dau-thang-ba", [FB], unit=SO_Y_TE, approved_at=MIDNIGHT - sec(3600), publish_at=MIDNIGHT,
                 title="Đầu tháng Ba: lịch trực của Sở"),
        approved("cuoi-thang-hai", [FB], unit=SO_Y_TE, approved_at=MIDNIGHT - sec(3600),
                 publish_at=MIDNIGHT - sec(1), title="Cuối tháng Hai: tổng kết"),
        approved("lich-tiep-dan-thang-3", [("facebook", "trang-bo")], unit=VAN_PHONG,
                 approved_at=due - sec(600), publish_at=due, title="Lịch tiếp dân tháng 3 của Lãnh đạo Bộ"),
    ]  # fmt: skip
    statuses = [
        status("tiem-chung-dot-3", *FB, PUB, 2, at=due + sec(60), due_at=due),  # the bound: on time
        status("tiem-chung-dot-3", *X, PUB, 2, at=due + sec(61), due_at=due),  # a second past it: late
        status("canh-bao-sot-xuat-huyet", *FB, PUB, 2, at=due + sec(2), due_at=due),
        status("dau-thang-ba", *FB, PUB, 2, at=MIDNIGHT + sec(4), due_at=MIDNIGHT),
        status("cuoi-thang-hai", *FB, PUB, 2, at=MIDNIGHT + sec(4), due_at=MIDNIGHT - sec(1)),
        status("lich-tiep-dan-thang-3", "facebook", "trang-bo", PUB, 2, at=due + sec(5), due_at=due),
    ]
    read = due + timedelta(days=1)
    newest = {Metric.REACH: 15230, Metric.REACTIONS: 412, Metric.COMMENTS: 37, Metric.SHARES: 58}
    other = {Metric.REACH: 4770, Metric.REACTIONS: 95, Metric.COMMENTS: 12, Metric.SHARES: 21}
    on_x = {Metric.IMPRESSIONS: 9100, Metric.REACTIONS: 140, Metric.COMMENTS: 6, Metric.SHARES: 33}
    samples = [
        observed("tiem-chung-dot-3", *FB, read, {Metric.REACH: 800, Metric.REACTIONS: 20}),
        observed("tiem-chung-dot-3", *FB, read + sec(3600), newest),  # the newest reading counts, alone
        observed("canh-bao-sot-xuat-huyet", *FB, read, other),
        observed("tiem-chung-dot-3", *X, read, on_x),
        observed("cuoi-thang-hai", *FB, read, {Metric.REACH: 99999}),
        observed("lich-tiep-dan-thang-3", "facebook", "trang-bo", read, {Metric.REACH: 2100}),
    ]
    return contents, statuses, samples


async def _total(client: httpx.AsyncClient, url: str, n: int) -> bool:
    r = await client.get(url, headers=auth("admin"))
    return bool(r.json()["total"] == n)


async def _figures_in(client: httpx.AsyncClient, content: str, n: int) -> bool:
    r = await client.get(f"/api/v1/contents/{content}/engagement", headers=auth("admin"))
    return r.status_code == 200 and len(r.json()["deliveries"]) == n


def _rows(body: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    return {(r["unit"], r["channel"]): r for r in body["rows"]}  # type: ignore[attr-defined,index]


async def test_the_report_of_march_per_unit_and_channel_its_csv_and_who_sees_what(
    settings: LoaSettings, db_url: str
) -> None:
    await create_topics(settings)
    contents, statuses, samples = march_events()
    now = utcnow()
    contents.append(
        approved("thong-cao-hom-nay", [FB], unit=SO_Y_TE, approved_at=now, title="Thông cáo hôm nay")
    )
    statuses.append(status("thong-cao-hom-nay", *FB, PUB, 2, at=now + sec(1), due_at=now))
    tokens = {
        **{name: {"token": token, "role": name} for name, token in TOKENS.items()},
        "xem-so-y-te": {"token": VIEWER_SO_Y_TE, "role": "viewer", "units": [SO_Y_TE]},
    }
    viewer = {"Authorization": f"Bearer {VIEWER_SO_Y_TE}"}
    march = {"from": "2026-03-01", "to": "2026-04-01"}
    async with running_tracker(tracker_settings(settings, db_url, tracker_tokens=tokens)) as (_, client):
        async with producer(settings) as p:
            await send(p, settings, topics.CONTENT, contents)
            await eventually(lambda: _total(client, "/api/v1/contents", 6), what="contents")
            await send(p, settings, topics.DELIVERY, statuses)
            await eventually(lambda: _total(client, "/api/v1/deliveries?state=published", 7), what="statuses")
            await send(p, settings, topics.ENGAGEMENT, samples)
            await eventually(lambda: _figures_in(client, "lich-tiep-dan-thang-3", 1), what="figures")
            await eventually(lambda: _figures_in(client, "tiem-chung-dot-3", 2), what="figures")

        everyone = await client.get("/api/v1/reports", params=march, headers=auth("admin"))
        assert everyone.status_code == 200, everyone.text
        body = everyone.json()
        assert (body["since"], body["until"]) == ("2026-03-01T00:00:00+07:00", "2026-04-01T00:00:00+07:00")
        assert body["on_time_window_s"] == 60.0
        rows = _rows(body)
        assert set(rows) == {(SO_Y_TE, "facebook"), (SO_Y_TE, "x"), (VAN_PHONG, "facebook")}
        facebook = rows[(SO_Y_TE, "facebook")]
        # 1 March 00:00 in Vietnam is in; 28 February 23:59:59 is not, nor is today's post
        assert (facebook["deliveries"], facebook["published"], facebook["on_time"]) == (3, 3, 3)
        assert (facebook["audience_metric"], facebook["audience"]) == ("reach", 15230 + 4770)
        assert (facebook["reactions"], facebook["comments"], facebook["shares"]) == (
            412 + 95,
            37 + 12,
            58 + 21,
        )
        assert facebook["posts_with_figures"] == 2
        x = rows[(SO_Y_TE, "x")]
        assert (x["published"], x["on_time"], x["on_time_rate"]) == (1, 0, 0.0)  # 61 s after: late
        assert (x["audience_metric"], x["audience"], x["shares"]) == ("impressions", 9100, 33)

        first_day = await client.get(
            "/api/v1/reports", params={"from": "2026-03-01", "to": "2026-03-02"}, headers=auth("admin")
        )
        assert [(r["unit"], r["published"]) for r in first_day.json()["rows"]] == [(SO_Y_TE, 1)]
        february = await client.get("/api/v1/reports", params={"month": "2026-02"}, headers=auth("admin"))
        assert [(r["published"], r["audience"]) for r in february.json()["rows"]] == [(1, 99999)]

        # a viewer of one unit: its rows only; another unit's report is refused, naming the unit
        own = await client.get("/api/v1/reports", params=march, headers=viewer)
        assert {r["unit"] for r in own.json()["rows"]} == {SO_Y_TE}
        other = await client.get("/api/v1/reports", params={**march, "unit": VAN_PHONG}, headers=viewer)
        assert other.status_code == 403 and VAN_PHONG in other.json()["error"]["message"]
        refused_csv = await client.get(
            "/api/v1/reports.csv", params={**march, "unit": VAN_PHONG}, headers=viewer
        )
        assert refused_csv.status_code == 403
        chart = await client.get("/api/v1/reports.png", params={**march, "unit": VAN_PHONG}, headers=viewer)
        assert chart.status_code == 403

        sheet = await client.get("/api/v1/reports.csv", params={**march, "unit": SO_Y_TE}, headers=viewer)
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"] == "text/csv; charset=utf-8"
        assert (
            sheet.headers["content-disposition"]
            == 'attachment; filename="bao-cao-don-vi-2026-03-01-2026-03-31.csv"'
        )
        assert sheet.content.startswith("\ufeff".encode())
        table = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        assert table[0][:4] == ["Đơn vị", "Kênh", "Lượt phát hành trong kỳ", "Đã đăng"]
        assert [r[:14] for r in table[1:]] == [
            [SO_Y_TE, "Facebook", "3", "3", "3", "1.0", "0", "0", "Người tiếp cận", "20000", "507", "49",
             "79", "2"],
            [SO_Y_TE, "X", "1", "1", "0", "0.0", "0", "0", "Lượt hiển thị", "9100", "140", "6", "33", "1"],
        ]  # fmt: skip
        audit = await client.get("/api/v1/audit", params={"action": "export"}, headers=auth("admin"))
        exports = [(e["actor"], e["unit"], e["detail"]) for e in audit.json()["items"]]
        assert ("xem-so-y-te", SO_Y_TE, "report 2026-03-01..2026-03-31 csv") in exports
        assert not any(unit == VAN_PHONG for _, unit, _ in exports)  # a refused download is no export

        # the current month on /metrics: today's post, by unit and channel
        metrics = (await client.get("/metrics")).text
    published = f'loa_report_month_published{{channel="facebook",unit="{SO_Y_TE}"}} 1.0'
    assert published in metrics, [line for line in metrics.splitlines() if "loa_report" in line]
    assert f'loa_report_month_on_time_ratio{{channel="facebook",unit="{SO_Y_TE}"}} 1.0' in metrics


def _comments(
    content_id: str, account: str, now: datetime, said: list[tuple[str, float]]
) -> CommentsObserved:
    """The listener's reading of a post: (text, hours before ``now`` it was written)."""
    return CommentsObserved(
        payload=Comments(
            content_id=content_id,
            version=1,
            channel="facebook",
            account=account,
            external_id=f"{account}_{content_id}",
            observed_at=now,
            comments=[
                PostComment(
                    external_id=f"{content_id}_{i}",
                    author="Lê Thị Đoan",
                    text=text,
                    created_at=now - timedelta(hours=hours),
                )
                for i, (text, hours) in enumerate(said)
            ],
        )
    )


async def test_comments_and_alerts_answered_and_how_fast_on_postgresql(
    settings: LoaSettings, pg_url: str
) -> None:
    """Comments come through Kafka, the watch raises its alerts, operators answer and hide through
    the API; the report of these days counts them per unit and channel, with the response times."""
    await create_topics(settings)
    now = utcnow()
    tokens = {
        **{name: {"token": token, "role": name} for name, token in TOKENS.items()},
        "xem-so-y-te": {"token": VIEWER_SO_Y_TE, "role": "viewer", "units": [SO_Y_TE]},
    }
    today = queries.today(now)
    days = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    heard = [
        _comments("tiem-chung-dot-4", FB[1], now, [
            ("Đây là tin giả, đừng chia sẻ!", 2),
            ("Lịch tiêm ở phường Hải Châu thế nào ạ?", 1),
            ("Cảm ơn Sở Y tế Đà Nẵng.", 0.5),
        ]),
        _comments("lich-tiep-dan-thang-12", "trang-bo", now, [("Lừa đảo! Đừng tin số điện thoại này.", 3)]),
    ]  # fmt: skip
    async with running_tracker(tracker_settings(settings, pg_url, tracker_tokens=tokens)) as (_, client):
        async with producer(settings) as p:
            await send(p, settings, topics.CONTENT, [
                approved("tiem-chung-dot-4", [FB], unit=SO_Y_TE, title="Tiêm chủng đợt 4 tại Đà Nẵng"),
                approved("lich-tiep-dan-thang-12", [("facebook", "trang-bo")], unit=VAN_PHONG,
                         title="Lịch tiếp công dân tháng 12"),
            ])  # fmt: skip
            await eventually(lambda: _total(client, "/api/v1/contents", 2), what="contents")
            await send(p, settings, topics.ENGAGEMENT, heard)

            async def inbox() -> list[dict[str, Any]]:
                return list((await client.get("/api/v1/comments", headers=auth("admin"))).json())

            async def kept() -> bool:
                return len(await inbox()) == 4

            await eventually(kept, what="the comments in the inbox")
        by_text = {c["text"]: c["id"] for c in await inbox()}
        for text, state in (
            ("Đây là tin giả, đừng chia sẻ!", "hidden"),
            ("Lịch tiêm ở phường Hải Châu thế nào ạ?", "answered"),
            ("Cảm ơn Sở Y tế Đà Nẵng.", "seen"),  # seen is not answered
        ):
            marked = await client.post(
                f"/api/v1/comments/{by_text[text]}/state", json={"state": state}, headers=auth("operator")
            )
            assert marked.status_code == 200, marked.text
        after = utcnow()

        found = await client.get("/api/v1/reports", params=days, headers=auth("admin"))
        assert found.status_code == 200, found.text
        rows = _rows(found.json())
        so_y_te, van_phong = rows[(SO_Y_TE, "facebook")], rows[(VAN_PHONG, "facebook")]
        assert (so_y_te["comments_received"], so_y_te["comments_answered"]) == (3, 2)
        # written 2 h and 1 h before `now`, answered between `now` and `after`: the median is 1.5 h
        slack = (after - now).total_seconds() + 1
        assert 5400 <= float(str(so_y_te["comment_answer_median_s"])) <= 5400 + slack
        # the "tin giả" alert, raised when the comments came, answered by the hide
        assert (so_y_te["alerts"], so_y_te["alerts_answered"]) == (1, 1)
        assert 0 <= float(str(so_y_te["alert_answer_median_s"])) <= slack
        assert [van_phong[k] for k in LISTENING] == [1, 0, None, 1, 0, None]

        viewer = {"Authorization": f"Bearer {VIEWER_SO_Y_TE}"}
        own = await client.get("/api/v1/reports", params=days, headers=viewer)
        assert set(_rows(own.json())) == {(SO_Y_TE, "facebook")}
        sheet = await client.get("/api/v1/reports.csv", params=days, headers=viewer)
        table = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        assert table[0][-6:] == [
            "Bình luận nhận được", "Bình luận đã trả lời/ẩn", "Thời gian trả lời bình luận, trung vị (giây)",
            "Cảnh báo tin sai lệch", "Cảnh báo đã xử lý", "Thời gian xử lý cảnh báo, trung vị (giây)",
        ]  # fmt: skip
        [(unit, channel, *figures)] = [[r[0], r[1], *r[-6:]] for r in table[1:]]
        assert (unit, channel) == (SO_Y_TE, "Facebook")
        assert [figures[i] for i in (0, 1, 3, 4)] == ["3", "2", "1", "1"]
        assert float(figures[2]) == so_y_te["comment_answer_median_s"]

        metrics = (await client.get("/metrics")).text
    if queries.today(now - timedelta(hours=3)).month != today.month:
        return  # the comments were written last month: this month's gauges do not have them all
    where = f'{{channel="facebook",unit="{SO_Y_TE}"}}'
    for line in (
        f"loa_report_month_comments{where} 3.0",
        f"loa_report_month_comments_answered{where} 2.0",
        f"loa_report_month_alerts{where} 1.0",
        f"loa_report_month_alerts_answered{where} 1.0",
        f'loa_report_month_alerts{{channel="facebook",unit="{VAN_PHONG}"}} 1.0',
    ):
        assert line in metrics, [m for m in metrics.splitlines() if "loa_report_month_" in m]
    assert f"loa_report_month_comment_answer_median_seconds{where}" in metrics
    assert (
        f'loa_report_month_alert_answer_median_seconds{{channel="facebook",unit="{VAN_PHONG}"}}'
        not in metrics
    )
