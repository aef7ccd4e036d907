"""``LOA_CREDENTIALS_KEY`` holds several keys (newest first); ``loa accounts rotate-key`` moves
every account to the newest one, so the old one can be dropped."""

from __future__ import annotations

import asyncio
import json

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import update
from typer.testing import CliRunner

from loa.cli.accounts import app
from loa.publisher.accounts import AccountError, AccountStore, load_cipher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.schema import accounts

pytestmark = pytest.mark.integration

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SECRETS = {"cong-noi-bo": "bi-mat-mot", "cong-da-nang": "bi-mat-hai"}


def store(db_url: str, key: str) -> AccountStore:
    settings = PublisherSettings(credentials_key=SecretStr(key))
    return AccountStore(make_engine(db_url), "webhook", load_cipher(settings))


async def read_all(db_url: str, key: str) -> dict[str, str]:
    """name → secret, every account read as for publishing (options verified)."""
    s = store(db_url, key)
    try:
        found = {name: await s.get(name) for name in SECRETS}
        return {name: f.account.secret("secret") for name, f in found.items() if f is not None}
    finally:
        await s.engine.dispose()


async def rotate(db_url: str, keys: str) -> tuple[int, str]:
    """``loa accounts rotate-key webhook`` (in a thread: the command runs its own event loop)."""
    args = ["rotate-key", "webhook", "--database-url", db_url]
    result = await asyncio.to_thread(CliRunner().invoke, app, args, env={"LOA_CREDENTIALS_KEY": keys})
    return result.exit_code, result.output


async def test_rows_of_the_old_key_are_read_then_rotated_to_the_new(db_url: str) -> None:
    old = store(db_url, KEY_A)
    await migrate(old.engine)
    for name, secret in SECRETS.items():
        await old.add(name, {"secret": secret}, {"url": f"https://{name}.gov.vn/hook"})
    await old.engine.dispose()

    assert await read_all(db_url, f"{KEY_B},{KEY_A}") == SECRETS  # during the rotation

    code, output = await rotate(db_url, f"{KEY_B},{KEY_A}")
    assert code == 0, output
    assert "webhook: 2 account(s) encrypted with the newest key" in output
    assert not any(secret in output for secret in SECRETS.values())
    assert KEY_A not in output and KEY_B not in output

    assert await read_all(db_url, KEY_B) == SECRETS  # the old key can go; options still verify
    with pytest.raises(AccountError, match="LOA_CREDENTIALS_KEY") as e:
        await read_all(db_url, KEY_A)
    assert KEY_A not in str(e.value) and KEY_B not in str(e.value)


async def test_rotation_leaves_tampered_accounts_and_names_them(db_url: str) -> None:
    s = store(db_url, KEY_A)
    await migrate(s.engine)
    for name, secret in SECRETS.items():
        await s.add(name, {"secret": secret}, {"url": f"https://{name}.gov.vn/hook"})
    async with s.engine.begin() as conn:
        await conn.execute(
            update(accounts)
            .where(accounts.c.name == "cong-da-nang")
            .values(options=json.dumps({"url": "https://ke-gian.example/hook"}))
        )
    await s.engine.dispose()

    code, output = await rotate(db_url, f"{KEY_B},{KEY_A}")
    assert code == 1
    assert "webhook: 1 account(s) encrypted with the newest key" in output
    assert "webhook/cong-da-nang: not rotated, its options were changed outside loa accounts" in output


def test_a_malformed_key_is_named_by_position_never_shown() -> None:
    settings = PublisherSettings(credentials_key=SecretStr(f"{KEY_B},khong-phai-khoa"))
    with pytest.raises(AccountError, match="LOA_CREDENTIALS_KEY: key 2 of 2 is not a Fernet key") as e:
        load_cipher(settings)
    assert "khong-phai-khoa" not in str(e.value) and KEY_B not in str(e.value)
