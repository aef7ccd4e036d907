"""Seeding accounts from a YAML file never writes back credentials the channel has rotated since."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from loa.publisher.accounts import AccountStore
from loa.publisher.store.db import make_engine, migrate

pytestmark = pytest.mark.integration

FILE = """accounts:
  - channel: zalo
    name: oa-bo
    credentials: {{app_id: "1234", secret_key: "bi-mat-ung-dung", refresh_token: "{refresh}"}}
    options: {{author: "Văn phòng Bộ"}}
"""


async def test_a_restart_keeps_rotated_credentials_and_a_changed_file_wins(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    await migrate(engine)
    store = AccountStore(engine, "zalo", Fernet(Fernet.generate_key()))
    seed = tmp_path / "accounts.yaml"
    seed.write_text(FILE.format(refresh="rt-tu-file-1"), encoding="utf-8")

    assert await store.seed(seed) == 1
    await store.update("oa-bo", credentials={"refresh_token": "rt-da-xoay-vong"})  # the channel rotated it
    assert await store.seed(seed) == 0  # a restart with the same file
    account, _, _ = await store.get("oa-bo")  # type: ignore[misc]
    assert account.secret("refresh_token") == "rt-da-xoay-vong"
    assert account.options["author"] == "Văn phòng Bộ"

    seed.write_text(FILE.format(refresh="rt-nguoi-cap-lai"), encoding="utf-8")  # a person re-authorised
    assert await store.seed(seed) == 1
    account, _, _ = await store.get("oa-bo")  # type: ignore[misc]
    assert account.secret("refresh_token") == "rt-nguoi-cap-lai"
    await engine.dispose()
