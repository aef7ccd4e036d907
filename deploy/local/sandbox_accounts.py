"""Connect one sandbox account per channel: register it with the channel's emulator (e-mail: a press
list of three made-up journalists, sent through the stack's Mailpit) and store it, encrypted, in
that channel's publisher store, under the names the sample article targets.

``python deploy/local/sandbox_accounts.py`` (``make run`` does it once the services are up).
Credentials are made up here, per run; nothing is printed but account names.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from loa.publisher.accounts import AccountStore, load_cipher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate

SANDBOX = PublisherSettings().sandbox_url


def _x(http: httpx.Client) -> dict[str, str]:
    keys = {
        k: secrets.token_urlsafe(18)
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    http.post(
        "/x/_accounts", json={"id": "1000000001", "username": "bo_truyenthong", **keys}
    ).raise_for_status()
    return keys


def _zalo(http: httpx.Client) -> dict[str, str]:
    app = {"app_id": secrets.token_hex(6), "secret_key": secrets.token_urlsafe(18), "oa_id": "oa-bo"}
    pair = http.post("/zalo/_apps", json=app).raise_for_status().json()
    return {**app, "access_token": pair["access_token"], "refresh_token": pair["refresh_token"]}


def _youtube(_: httpx.Client) -> dict[str, str]:
    return {
        "client_id": "loa-sandbox.apps.googleusercontent.com",
        "client_secret": secrets.token_urlsafe(18),
        "refresh_token": secrets.token_urlsafe(24),
    }


def _tiktok(http: httpx.Client) -> dict[str, str]:
    keys = {
        "client_key": "aw" + secrets.token_hex(7),
        "client_secret": secrets.token_urlsafe(18),
        "access_token": "act." + secrets.token_urlsafe(24),
        "refresh_token": "rft." + secrets.token_urlsafe(24),
    }
    creator = {"open_id": "_000bo-truyenthong", "username": "bo_truyenthong", **keys}
    http.post("/tiktok/_creators", json=creator).raise_for_status()
    return keys


def _facebook(_: httpx.Client) -> dict[str, str]:
    return {"page_access_token": "sandbox-page-token"}  # the emulator's default page


PRESS_LIST = {  # the local Mailpit takes any login: no SMTP credentials in development
    "contact": ["Người phát ngôn: Đặng Thị Thu Hà, Chánh Văn phòng Bộ", "Điện thoại: 024 3943 0000"],
    "recipients": [
        {
            "name": name,
            "outlet": outlet,
            "email": email,
            "unit": "Vụ Truyền thông và Báo chí",
            "consent_date": "2026-01-05",
        }
        for name, outlet, email in (
            ("Nguyễn Văn Đạt", "Báo Nhân Dân", "dat.nguyen@nhandan.example.vn"),
            ("Trần Thị Ngọc Ánh", "Báo Tuổi Trẻ", "anh.tran@tuoitre.example.vn"),
            ("Lê Đức Thịnh", "Thông tấn xã Việt Nam", "thinh.le@ttxvn.example.vn"),
        )
    ],
}

# channel → (account name the sample targets, how to get credentials, options)
ACCOUNTS: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "website": ("main", lambda _: {}, {}),
    "facebook": ("trang-chinh", _facebook, {"page_id": "100000000000001"}),
    "zalo": ("oa-bo", _zalo, {}),
    "x": ("bo_truyenthong", _x, {}),
    "youtube": ("kenh-chinh", _youtube, {}),
    "tiktok": ("kenh-tiktok", _tiktok, {}),
    "email": ("bao-chi-trung-uong", lambda _: {}, PRESS_LIST),
}


async def store(channel: str, name: str, credentials: Mapping[str, str], options: Mapping[str, Any]) -> None:
    settings = PublisherSettings()
    engine = make_engine(settings.job_store_url(channel))
    try:
        await migrate(engine)
        accounts = AccountStore(engine, channel, load_cipher(settings))
        if await accounts.get(name) is None:
            await accounts.add(name, credentials, options)
        else:
            await accounts.update(name, credentials=credentials, options=options, merge=False)
    finally:
        await engine.dispose()


def main(channels: list[str]) -> int:
    with httpx.Client(base_url=str(SANDBOX).rstrip("/"), timeout=10) as http:
        for channel in channels or list(ACCOUNTS):
            name, credentials, options = ACCOUNTS[channel]
            asyncio.run(store(channel, name, credentials(http), options))
            print(f"sandbox account ready: {channel}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
