"""Which accounts each channel has, read from the channels' job stores: names only, never credentials.

The ingest asks before accepting a content, so an unknown account is a 422 rather than a delivery
that fails later; the publishers' own check at intake stays (events may come straight from Kafka).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from loa.publisher.store.schema import accounts
from loa.settings import LoaSettings

log = logging.getLogger(__name__)


class AccountDirectory:
    """``await directory.has(channel, name)``: True, False, or None when the store cannot tell
    (no job store for that channel yet, or it cannot be read: the publisher still checks)."""

    def __init__(self, settings: LoaSettings) -> None:
        self.settings = settings
        self._engines: dict[str, AsyncEngine] = {}
        self._known: dict[str, frozenset[str]] = {}

    async def has(self, channel: str, name: str) -> bool | None:
        if name in self._known.get(channel, frozenset()):
            return True
        names = await self._read(channel)  # a miss is read afresh: accounts are added at any time
        if names is None:
            return None
        self._known[channel] = names
        return name in names

    async def _read(self, channel: str) -> frozenset[str] | None:
        url = self.settings.job_store_url(channel)
        parsed = make_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if is_sqlite and not await asyncio.to_thread(Path(parsed.database or "").is_file):
            return None  # the channel's publisher never ran here: do not create its store
        engine = self._engines.get(url)
        if engine is None:
            # No pool: a connection per read, none held between requests (nothing to close).
            engine = self._engines[url] = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(accounts.c.name).where(accounts.c.channel == channel))
                return frozenset(rows.scalars())
        except SQLAlchemyError as e:
            log.warning("cannot read the accounts of %s: %s", channel, type(e).__name__)
            return None
