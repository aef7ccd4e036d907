"""Press lists through the tracker's API: a spokesperson of the list's unit (or an admin) sees and
replaces its journalists, no one else; every change audited without an address; the publisher gets
the list as the e-mail account's ``account.set`` on ``loa.commands.v1``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from loa.cli.main import app
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    TOKENS,
    auth,
    command_records,
    create_topics,
    running_tracker,
    tracker_settings,
)

pytestmark = pytest.mark.integration

UNIT = "Vụ Thông tin cơ sở"
OTHER = "Sở Thông tin và Truyền thông Đà Nẵng"
LIST = "bao-chi-trung-uong"
PEOPLE = [
    {
        "name": "Trần Thị Đào",
        "outlet": "Báo Tuổi Trẻ",
        "email": "dao.tran@tuoitre.example.vn",
        "unit": UNIT,
        "consent_date": "2025-10-01",
    },
    {
        "name": "Nguyễn Văn Đạt",
        "outlet": "Đài Tiếng nói Việt Nam",
        "email": "dat.nguyen@vov.example.vn",
        "unit": UNIT,
        "consent_date": "2025-09-15",
    },
]
SPOKESPERSON = "spokesperson-token-0123456789abcdef-012345"
OTHER_SPOKESPERSON = "spokesperson-other-0123456789abcdef-0123"
EDITOR = "editor-token-0123456789abcdef-0123456789ab"


async def test_press_lists_are_the_units_spokespersons_and_reach_the_publisher(
    settings: LoaSettings, sqlite_url: str, tmp_path: Path
) -> None:
    await create_topics(settings)
    tokens: dict[str, Any] = {name: {"token": tok, "role": name} for name, tok in TOKENS.items()}
    tokens |= {
        "phat-ngon": {"token": SPOKESPERSON, "role": "spokesperson", "units": [UNIT]},
        "phat-ngon-da-nang": {"token": OTHER_SPOKESPERSON, "role": "spokesperson", "units": [OTHER]},
        "bien-tap": {"token": EDITOR, "role": "editor", "units": [UNIT]},
    }
    ts = tracker_settings(settings, sqlite_url.replace("store.db", "tracker.db"), tracker_tokens=tokens)
    bearer = {"spokesperson": SPOKESPERSON, "other": OTHER_SPOKESPERSON, "editor": EDITOR}

    async with running_tracker(ts) as (_, client):

        async def call(method: str, url: str, who: str, **kw: Any) -> httpx.Response:
            headers = auth(who) if who in TOKENS else {"Authorization": f"Bearer {bearer[who]}"}
            return await client.request(method, url, headers=headers, **kw)

        url = f"/api/v1/press-lists/{LIST}"
        assert (await call("PUT", url, "spokesperson", json={"people": PEOPLE})).status_code == 404
        account = {"channel": "email", "name": LIST, "unit": UNIT, "options": {"recipients": []}}
        assert (await call("POST", "/api/v1/accounts", "admin", json=account)).status_code == 201

        body = {"people": PEOPLE, "contact": ["Người phát ngôn: Đặng Thị Thu Hà, 024 3943 0000"]}
        for who in ("viewer", "operator", "editor", "other"):
            assert (await call("PUT", url, who, json=body)).status_code == 403, who
            assert (await call("GET", url, who)).status_code == 403, who
        bad = {"people": [PEOPLE[0], {**PEOPLE[1], "email": "không-phải-địa-chỉ"}]}
        refused = await call("PUT", url, "spokesperson", json=bad)
        assert refused.status_code == 422
        assert refused.json()["error"]["fields"][0]["field"] == "body.people.1.email"
        no_consent = {"people": [{k: v for k, v in PEOPLE[0].items() if k != "consent_date"}]}
        assert (await call("PUT", url, "spokesperson", json=no_consent)).status_code == 422

        changed = await call("PUT", url, "spokesperson", json=body)
        assert changed.status_code == 200, changed.text
        shown = changed.json()
        assert (shown["recipients"], shown["unit"]) == (2, UNIT)
        assert [p["email"] for p in shown["people"]] == [p["email"] for p in PEOPLE]
        assert (await call("GET", url, "admin")).json() == shown
        listed = (await call("GET", "/api/v1/press-lists", "spokesperson")).json()
        assert listed == [{"name": LIST, "unit": UNIT, "recipients": 2}]
        assert (await call("GET", "/api/v1/press-lists", "other")).json() == []

        # the same through the command line, with the spokesperson's token
        listed_file = tmp_path / "bao-chi.yaml"
        listed_file.write_text(yaml.safe_dump(PEOPLE[:1], allow_unicode=True), encoding="utf-8")
        env = {"LOA_TRACKER_URL": str(client.base_url), "LOA_API_TOKEN": SPOKESPERSON, "COLUMNS": "200"}
        runner = CliRunner()
        ran = await asyncio.to_thread(
            runner.invoke, app, ["press-lists", "set", LIST, str(listed_file)], env=env
        )
        assert ran.exit_code == 0, ran.output
        assert "1 recipient(s)" in ran.output
        ran = await asyncio.to_thread(runner.invoke, app, ["press-lists", "show", LIST], env=env)
        assert "Trần Thị Đào\tBáo Tuổi Trẻ\tdao.tran@tuoitre.example.vn" in ran.output
        ran = await asyncio.to_thread(
            runner.invoke,
            app,
            ["press-lists", "set", LIST, str(listed_file)],
            env=env | {"LOA_API_TOKEN": OTHER_SPOKESPERSON},
        )
        assert ran.exit_code == 1, ran.output  # refused: another unit's list
        assert (await call("PUT", url, "spokesperson", json=body)).status_code == 200

        audit = (await call("GET", "/api/v1/audit", "admin", params={"action": "press_list_change"})).json()
        rows = audit["items"][::-1]  # newest first
        assert [(r["actor"], r["account"], r["unit"]) for r in rows] == [("phat-ngon", LIST, UNIT)] * 3
        assert [r["detail"] for r in rows] == [
            f"press list {LIST}: 0 → 2 recipients, contact block",
            f"press list {LIST}: 2 → 1 recipients",
            f"press list {LIST}: 1 → 2 recipients, contact block",
        ]
        assert "@" not in json.dumps(rows)

    commands = [json.loads(v) for k, v in await command_records(settings) if k == f"email/{LIST}".encode()]
    assert commands[-1]["type"] == "account.set"  # the one path every account change takes
    assert commands[-1]["payload"]["options"]["recipients"] == PEOPLE
