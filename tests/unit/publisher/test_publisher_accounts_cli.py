"""``loa accounts``: writes the channel's store, never prints a credential."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from loa.cli.main import app
from loa.publisher.accounts import AccountStore
from loa.publisher.store.db import make_engine

pytestmark = pytest.mark.unit


def test_accounts_add_list_update_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LOA_CREDENTIALS_KEY", key)
    url = f"sqlite+aiosqlite:///{tmp_path / 'publisher-facebook.db'}"
    db = ["--database-url", url]
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["accounts", "add", "facebook", "so-tttt", "-c", "page_token=EAAbímật", "-o", "page_id=1234", *db],
    )
    assert added.exit_code == 0, added.output
    assert "version 1" in added.output
    listed = runner.invoke(app, ["accounts", "list", "facebook", *db])
    assert listed.exit_code == 0
    assert "so-tttt" in listed.output
    assert "page_token" in listed.output
    assert "EAAbímật" not in listed.output
    assert '"page_id": 1234' in listed.output
    hidden = runner.invoke(
        app, ["accounts", "update", "facebook", "so-tttt", "-c", "page_token", *db], input="mới\n"
    )
    assert hidden.exit_code == 0
    assert "version 2" in hidden.output
    assert "mới" not in hidden.output

    async def read() -> str:
        engine = make_engine(url)
        found = await AccountStore(engine, "facebook", Fernet(key.encode())).get("so-tttt")
        await engine.dispose()
        assert found is not None
        return found[0].secret("page_token")

    assert asyncio.run(read()) == "mới"
    dup = runner.invoke(app, ["accounts", "add", "facebook", "so-tttt", "-c", "page_token=x", *db])
    assert dup.exit_code == 1
    assert "exists" in dup.output
    assert runner.invoke(app, ["accounts", "remove", "facebook", "so-tttt", *db]).exit_code == 0
    assert "so-tttt" not in runner.invoke(app, ["accounts", "list", "facebook", *db]).output
