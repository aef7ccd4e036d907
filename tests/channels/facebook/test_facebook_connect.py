"""Connect a Facebook Page from the accounts page's API, against the sandbox's Facebook Login
(dialog → code → User token → long-lived User token → ``me/accounts``): the admin's Page is
picked, its Page token reaches the publisher sealed and posts, the account shows no expiry (a
long-lived Page token has none), the change is audited; forged, unbound and expired states,
a refused consent and a refused code connect nothing; no answer carries a secret."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from loa.settings import LoaSettings
from tests.integration.tracker.connect_support import (
    UNIT,
    account_changes,
    assert_refusals,
    connect_tracker,
    consent,
    sealed_credentials,
)
from tests.integration.tracker.support import auth

pytestmark = pytest.mark.integration

APP_ID, APP_SECRET = "802345678901234", "9f3c2a7b5e1d4c6a8b0e2f4a6c8d0e1f"
PAGES = {"104857600000001": "Sở TT&TT Đà Nẵng", "104857600000002": "Đài Phát thanh Đà Nẵng"}
BODY = {"name": "trang-so-da-nang", "unit": UNIT, "app_id": APP_ID, "app_secret": APP_SECRET}


async def _declare(sandbox_url: str) -> dict[str, str]:
    tokens = {}
    async with httpx.AsyncClient(base_url=sandbox_url) as graph:
        for page_id, name in PAGES.items():
            tokens[page_id] = f"EAAB-page-{page_id}"
            await graph.post(
                "/graph/_sandbox/pages", json={"id": page_id, "name": name, "token": tokens[page_id]}
            )
        app = {"app_id": APP_ID, "app_secret": APP_SECRET, "page_ids": list(PAGES)}
        await graph.post("/graph/_sandbox/apps", json=app)
    return tokens


async def test_connect_the_admins_page_through_facebook_login(
    settings: LoaSettings, sqlite_url: str, sandbox_url: str
) -> None:
    tokens = await _declare(sandbox_url)
    page_id = "104857600000002"
    async with connect_tracker(settings, sqlite_url, sandbox_url) as (ts, _, client):
        bad = await client.post(
            "/api/v1/accounts/connect/facebook",
            headers=auth("admin"),
            json=BODY | {"page_id": "Trang Đà Nẵng"},
        )
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "body.page_id"
        assert (
            await client.post("/api/v1/accounts/connect/facebook", headers=auth("operator"), json=BODY)
        ).status_code == 403

        # a Page id the person does not manage: refused, naming the Pages they do
        unknown, asked = await consent(client, "facebook", BODY | {"page_id": "104857600000009"})
        assert asked["scope"] == ["pages_manage_posts,pages_read_engagement,pages_show_list"]
        assert urlsplit(unknown).path == "/accounts/connect/facebook/callback"
        refused = await client.get(unknown)
        assert refused.status_code == 502 and "Đài Phát thanh Đà Nẵng (104857600000002)" in refused.text

        # the person manages two Pages: the admin picks one after the consent
        callback, _ = await consent(client, "facebook", BODY)
        choose = await client.get(callback)
        assert choose.status_code == 200, choose.text
        assert all(name in choose.text for name in ("Sở TT&amp;TT Đà Nẵng", "Đài Phát thanh Đà Nẵng"))
        assert (await client.get(callback)).status_code == 403, "a state is used once"
        pick = re.search(r'data-pick="([^"]+)"', choose.text)
        assert pick is not None
        url = "/api/v1/accounts/connect/facebook/pick"
        other = {"pick": pick[1], "choice": "104857600000009"}
        assert (await client.post(url, headers=auth("admin"), json=other)).status_code == 404
        assert (await client.post(url, headers=auth("operator"), json=other)).status_code == 403
        done = await client.post(url, headers=auth("admin"), json={"pick": pick[1], "choice": page_id})
        assert done.status_code == 200, done.text
        assert done.json()["options"] == {"page_id": page_id}
        again = await client.post(url, headers=auth("admin"), json={"pick": pick[1], "choice": page_id})
        assert again.status_code == 404, "a pick is used once"

        listed = (await client.get("/api/v1/accounts", headers=auth("admin"))).json()
        (account,) = listed
        assert (account["channel"], account["name"], account["unit"]) == ("facebook", BODY["name"], UNIT)
        assert account["options"] == {"page_id": page_id}
        assert account["credential_names"] == ["page_access_token"]
        assert account["expires_at"] is None and account["refresh_token"] is False
        changes = await account_changes(client)
        assert [(r["outcome"], r["detail"].split(":")[0]) for r in changes] == [
            ("ok", "add facebook/trang-so-da-nang"),
            ("refused", "connect facebook/trang-so-da-nang"),
        ]

        creds = await sealed_credentials(ts, "facebook", BODY["name"])
        assert creds == {"page_access_token": tokens[page_id]}, "the Page's token alone, not the app secret"
        async with httpx.AsyncClient(base_url=sandbox_url) as graph:
            posted = await graph.post(
                f"/graph/v24.0/{page_id}/feed",
                headers={"Authorization": f"OAuth {creds['page_access_token']}"},
                data={"message": "Đà Nẵng: thông cáo báo chí về Hội nghị xúc tiến đầu tư"},
            )
        assert posted.status_code == 200, posted.text
        for text in (done.text, str(listed), str(changes), refused.text, choose.text):
            assert APP_SECRET not in text and tokens[page_id] not in text


async def test_facebook_connect_refusals(settings: LoaSettings, sqlite_url: str, sandbox_url: str) -> None:
    await _declare(sandbox_url)
    body = BODY | {"page_id": "104857600000001"}
    async with connect_tracker(settings, sqlite_url, sandbox_url) as (_, app, client):
        pages = await assert_refusals(
            app, client, sandbox_url, "facebook", body, {"app_secret": "Wrong0Secret"}
        )
    assert "Error validating client secret." in pages[1]
    assert all(APP_SECRET not in p and "Wrong0Secret" not in p for p in pages)
