"""The bench's press lists: added the way an office adds one, through the tracker's API.

An admin adds the list as an e-mail account (``POST /api/v1/accounts``, what ``loa accounts add email
NAME`` calls), then its journalists are set (``PUT /api/v1/press-lists/{name}``, what ``loa
press-lists set`` calls); the tracker sends both to the e-mail publisher as ``account.set`` on
``loa.commands.v1``, and the bench waits until the publisher's job store holds the list with its people.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from loa.publisher.store.schema import accounts

CONTACT = ["Người phát ngôn: Đặng Thị Thu Hà, Chánh Văn phòng UBND thành phố", "Điện thoại: 024 3825 0000"]
OUTLETS = (
    "Báo Nhân Dân",
    "Báo Tuổi Trẻ",
    "Đài Tiếng nói Việt Nam",
    "Báo Hà Nội Mới",
    "Thông tấn xã Việt Nam",
)
WITH_PEOPLE = 2
"""The account's version once its people are set: 1 when added, 2 after the press list's PUT."""


def journalists(n: int, list_name: str) -> list[dict[str, Any]]:
    """``n`` made-up journalists of distinct addresses (the bench's own Mailpit receives them)."""
    return [
        {
            "name": f"Đỗ Thị Ánh Dương {i}",
            "outlet": OUTLETS[i % len(OUTLETS)],
            "email": f"phong-vien-{i}@{list_name}.bao.example.vn",
            "unit": "Ban Thời sự",
            "consent_date": date(2026, 1, 5).isoformat(),
        }
        for i in range(n)
    ]


def add_press_lists(tracker_url: str, admin_token: str, names: list[str], size: int) -> None:
    """Each list as an e-mail account, then its ``size`` journalists, through the tracker's API."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=tracker_url, headers=headers, timeout=30) as http:
        for name in names:
            r = http.post("/api/v1/accounts", json={"channel": "email", "name": name})
            r.raise_for_status()
            body = {"people": journalists(size, name), "contact": CONTACT}
            http.put(f"/api/v1/press-lists/{name}", json=body).raise_for_status()


async def _versions(job_store_url: str) -> dict[str, int]:
    engine = create_async_engine(job_store_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            query = select(accounts.c.name, accounts.c.version).where(accounts.c.channel == "email")
            return {str(row.name): int(row.version) for row in await conn.execute(query)}
    finally:
        await engine.dispose()


def wait_for_publisher(job_store_url: str, names: list[str], timeout: float = 60.0) -> float:
    """Seconds until the e-mail publisher's store holds every list with its people (``account.set``)."""
    started = time.monotonic()
    while True:
        versions = asyncio.run(_versions(job_store_url))
        missing = [n for n in names if versions.get(n, 0) < WITH_PEOPLE]
        if not missing:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the e-mail publisher has not got press lists {missing} in {timeout:.0f} s")
        time.sleep(0.5)
