"""The accounts' read credentials, from the channels' job stores (the one home of credentials).

The listener reads what the publishers store (``loa.publisher.accounts.AccountStore``, encrypted
with ``LOA_CREDENTIALS_KEY``) and writes nothing there: on PostgreSQL its role needs ``SELECT`` on
``accounts`` only. Read afresh on every poll, so a credential rotated by a publisher (Zalo, X
OAuth 2.0) or changed by an admin is the one used next.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from loa.channels import Account
from loa.publisher.accounts import AccountStore, load_cipher
from services.listener.settings import ListenerSettings


class Accounts:
    def __init__(self, settings: ListenerSettings) -> None:
        self.settings = settings
        self.cipher = load_cipher(settings)
        self._stores: dict[str, AccountStore] = {}
        self._engines: list[AsyncEngine] = []

    async def get(self, channel: str, name: str) -> Account | None:
        store = self._stores.get(channel)
        if store is None:
            # No pool: a connection per read, none held between polls.
            engine = create_async_engine(self.settings.job_store_url(channel), poolclass=NullPool)
            self._engines.append(engine)
            store = self._stores[channel] = AccountStore(engine, channel, self.cipher)
        found = await store.get(name)
        return found.account if found is not None else None

    async def close(self) -> None:
        for engine in self._engines:
            await engine.dispose()
