"""Connect a Zalo OA from the accounts page's API, against the sandbox's OAuth v4 (permission +
code + PKCE): the tokens reach the zalo publisher's command sealed, the account shows its expiry,
the change is audited, a replayed or unbound state and a wrong verifier are refused, and no
answer carries a secret."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from loa.events import SetAccount, parse_command, utcnow
from loa.publisher.sealing import load_cipher, open_from_transit
from loa.settings import LoaSettings
from tests.integration.tracker.connect_support import UNIT, connect_tracker
from tests.integration.tracker.support import auth, command_records

pytestmark = pytest.mark.integration

APP_ID, OA_ID = "4318569247120", "2910374658"
SECRET_KEY = "Zq7tLxP2vN9sKd4WmR8c"


async def _sealed_commands(settings: LoaSettings) -> list[SetAccount]:
    commands = [parse_command(value) for _, value in await command_records(settings)]
    return [c for c in commands if isinstance(c, SetAccount)]


async def test_connect_a_zalo_oa_through_oauth_v4_with_pkce(
    settings: LoaSettings, sqlite_url: str, sandbox_url: str
) -> None:
    answers: list[str] = []
    async with (
        connect_tracker(settings, sqlite_url, sandbox_url) as (ts, _, client),
        httpx.AsyncClient(base_url=sandbox_url) as zalo,
    ):
        await zalo.post("/zalo/_apps", json={"app_id": APP_ID, "secret_key": SECRET_KEY, "oa_id": OA_ID})
        body = {"name": "oa-so-da-nang", "unit": UNIT, "app_id": APP_ID, "secret_key": SECRET_KEY}
        bad = {**body, "secret_key": "khóa-bí-mật"}
        r = await client.post("/api/v1/accounts/connect/zalo", headers=auth("admin"), json=bad)
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "body.secret_key"
        assert "khóa-bí-mật" not in r.text
        assert (
            await client.post("/api/v1/accounts/connect/zalo", headers=auth("operator"), json=body)
        ).status_code == 403
        r = await client.post("/api/v1/accounts/connect/zalo", headers=auth("admin"), json=body)
        assert r.status_code == 200, r.text
        answers.append(r.text)
        authorize = r.json()["authorize_url"]
        assert authorize.startswith(f"{sandbox_url}/zalo/oauth/v4/oa/permission?")
        asked = parse_qs(urlsplit(authorize).query)
        assert asked["app_id"] == [APP_ID] and len(asked["code_challenge"][0]) == 43

        granted = await zalo.get(authorize, follow_redirects=False)
        assert granted.status_code == 302
        back = urlsplit(granted.headers["location"])
        assert parse_qs(back.query)["oa_id"] == [OA_ID]
        callback = f"{back.path}?{back.query}"

        # another browser (no binding cookie) gets nothing, and does not spend the state
        async with httpx.AsyncClient(base_url=str(client.base_url)) as other:
            assert (await other.get(callback)).status_code == 403

        done = await client.get(callback)
        assert done.status_code == 200, done.text
        answers.append(done.text)
        assert (await client.get(callback)).status_code == 403, "a state is used once"

        listed = (await client.get("/api/v1/accounts", headers=auth("admin"))).json()
        answers.append(str(listed))
        (account,) = listed
        assert (account["channel"], account["name"], account["unit"]) == ("zalo", "oa-so-da-nang", UNIT)
        assert account["credential_names"] == ["access_token", "app_id", "refresh_token", "secret_key"]
        expires = utcnow() + timedelta(days=90)
        assert abs(datetime.fromisoformat(account["expires_at"]) - expires) < timedelta(minutes=5)

        audit = (
            await client.get("/api/v1/audit", headers=auth("admin"), params={"action": "account_change"})
        ).json()
        (row,) = audit["items"]
        assert (row["actor"], row["account"], row["outcome"]) == ("admin", "oa-so-da-nang", "ok")
        assert row["detail"].startswith(
            "add zalo/oa-so-da-nang: credentials access_token, app_id, refresh_token, secret_key"
        )
        answers.append(str(audit))

        # the publisher's command holds a pair the platform accepts
        (command,) = await _sealed_commands(ts)
        assert command.payload.credentials is not None
        creds = open_from_transit(load_cipher(ts), "zalo", "oa-so-da-nang", command.payload.credentials)
        assert creds["secret_key"] == SECRET_KEY
        quota = await zalo.post(
            "/zalo/openapi/v2.0/oa/quota/message", headers={"access_token": creds["access_token"]}, json={}
        )
        assert quota.json()["error"] == 0
        for secret in (SECRET_KEY, creds["access_token"], creds["refresh_token"]):
            assert all(secret not in a for a in answers)

        # the sandbox: a code opens only with the verifier of its challenge, once
        again = await client.post("/api/v1/accounts/connect/zalo", headers=auth("admin"), json=body)
        second = await zalo.get(again.json()["authorize_url"], follow_redirects=False)
        code = parse_qs(urlsplit(second.headers["location"]).query)["code"][0]
        form = {"app_id": APP_ID, "code": code, "grant_type": "authorization_code", "code_verifier": "sai"}
        refused = await zalo.post(
            "/zalo/oauth/v4/oa/access_token", data=form, headers={"secret_key": SECRET_KEY}
        )
        assert refused.json()["error"] == -14019
