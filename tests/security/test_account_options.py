"""Account options steer where credentials go: changed outside ``loa accounts``, they are refused.

The runtime through the webhook channel is in ``tests/e2e/test_account_options.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import insert, update

from loa.events import utcnow
from loa.publisher.accounts import AccountStore, OptionsTamperedError, load_cipher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.schema import accounts

pytestmark = pytest.mark.integration

ACCOUNT = "cong-noi-bo"
SECRET = "bi-mat-ky-webhook-2025"
GOOD = {"url": "https://cong.hanoi.gov.vn/hook"}
EVIL = {"url": "https://ke-gian.example/hook"}


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[AccountStore]:
    engine = make_engine(db_url)
    await migrate(engine)
    settings = PublisherSettings(credentials_key=SecretStr(Fernet.generate_key().decode()))
    yield AccountStore(engine, "webhook", load_cipher(settings))
    await engine.dispose()


async def set_column(store: AccountStore, name: str, **values: str) -> None:
    """What someone with write access to the database alone can do."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(accounts).where(accounts.c.channel == "webhook", accounts.c.name == name).values(**values)
        )


async def test_a_url_changed_in_the_database_is_refused_and_parks_the_account(store: AccountStore) -> None:
    await store.add(ACCOUNT, {"secret": SECRET}, GOOD)
    assert (await store.get(ACCOUNT)) is not None
    await set_column(store, ACCOUNT, options=json.dumps(EVIL))

    with pytest.raises(
        OptionsTamperedError, match=r"webhook/cong-noi-bo: its options were changed outside"
    ) as e:
        await store.get(ACCOUNT)
    assert SECRET not in str(e.value)
    assert "loa accounts update webhook cong-noi-bo" in str(e.value)
    assert (await store.versions())[ACCOUNT].parked
    cache = store.cache()  # what the dispatcher reads through
    await cache.refresh()
    with pytest.raises(OptionsTamperedError):
        await cache.get(ACCOUNT)
    [info] = await store.list()
    assert info.tampered and info.credential_names == ("secret",)

    # Only new options, given through `loa accounts`, seal them again (a person looked at them).
    with pytest.raises(OptionsTamperedError):
        await store.update(ACCOUNT, credentials={"secret": "moi"})
    await store.update(ACCOUNT, options=GOOD)
    found = await store.get(ACCOUNT)
    assert found is not None
    assert found.account.options == GOOD and found.account.secret("secret") == SECRET
    assert not (await store.versions())[ACCOUNT].parked


async def test_credentials_copied_to_another_account_do_not_verify(store: AccountStore) -> None:
    """The seal names the channel and the account: another row's token with its options is refused."""
    await store.add(ACCOUNT, {"secret": SECRET}, GOOD)
    await store.add("ke-gian", {"secret": "cua-ke-gian"}, EVIL)
    async with store.engine.connect() as conn:
        [token] = (
            await conn.execute(
                accounts.select().where(accounts.c.name == ACCOUNT).with_only_columns(accounts.c.credentials)
            )
        ).scalars()
    await set_column(store, "ke-gian", credentials=token)
    with pytest.raises(OptionsTamperedError):
        await store.get("ke-gian")


async def test_accounts_written_before_the_upgrade_are_sealed_then_verified(store: AccountStore) -> None:
    """A row of the previous version holds the credentials alone: it keeps publishing, is sealed by
    the first start (or ``loa accounts`` command), and from then on its options are verified."""
    legacy = store._cipher.encrypt(json.dumps({"secret": SECRET}).encode()).decode()
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(accounts).values(
                channel="webhook",
                name=ACCOUNT,
                credentials=legacy,
                options=json.dumps(GOOD),
                version=3,
                updated_at=utcnow(),
            )
        )
    found = await store.get(ACCOUNT)
    assert found is not None and found.account.secret("secret") == SECRET

    await store.seal_legacy()
    await store.seal_legacy()  # nothing left to seal: idempotent
    found = await store.get(ACCOUNT)
    assert found is not None and found.version == 3  # sealing is no change for the dispatcher
    await set_column(store, ACCOUNT, options=json.dumps(EVIL))
    with pytest.raises(OptionsTamperedError):
        await store.get(ACCOUNT)
