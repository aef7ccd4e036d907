"""What the runtime gives an adapter (``loa.channels.Context``): media, links, progress, credentials."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from functools import cached_property

from sqlalchemy import ColumnElement, select

from loa.channels import Account, Post
from loa.events import Content
from loa.links import canonical_url
from loa.media import MediaStore
from loa.publisher.accounts import AccountStore
from loa.publisher.locks import credentials_lock
from loa.publisher.progress import ProgressWrites
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.outage import is_store_outage
from loa.publisher.store.schema import jobs

log = logging.getLogger(__name__)


def _job_of(post: Post) -> tuple[ColumnElement[bool], ...]:
    """The job store's row of ``post``: (content, version, channel, account) is unique."""
    return (
        jobs.c.content_id == post.content_id,
        jobs.c.version == post.version,
        jobs.c.channel == post.channel,
        jobs.c.account == post.account,
    )


class RuntimeContext:
    def __init__(self, settings: PublisherSettings, store: JobStore, accounts: AccountStore) -> None:
        self._settings = settings
        self._store = store
        self._accounts = accounts
        self._progress = ProgressWrites(store)

    @cached_property
    def media(self) -> MediaStore:
        """Built on first use: channels without media never connect to MinIO."""
        return MediaStore(self._settings)

    def canonical_url(self, content: Content) -> str:
        return canonical_url(content, str(self._settings.website_base_url))

    async def save_progress(self, post: Post) -> None:
        """Write ``post.progress`` into the job of that post (content, version, channel, account).

        A store outage (PostgreSQL restarting) does not stop the platform work: the progress stays
        in ``post.progress``, the next save writes the newest, and the answer is written when the
        store is back. Failing here would abandon an upload session the platform still holds.
        """
        try:
            await self._progress.save(post)
        except Exception as e:
            if not is_store_outage(e):
                raise
            log.warning(
                "progress not saved (job store unavailable: %s); the work goes on",
                type(e).__name__,
                extra={
                    "content_id": post.content_id,
                    "version": post.version,
                    "channel": post.channel,
                    "account": post.account,
                },
            )

    async def retract_requested(self, post: Post) -> bool:
        """Read now from the job store (a retraction may reach another replica's intake)."""
        async with self._store.engine.connect() as conn:
            flags = (await conn.execute(select(jobs.c.retract_requested).where(*_job_of(post)))).scalars()
            return any(flags)

    def credentials_lock(self, account: Account) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while rotating credentials: one refresh at a time per account, across replicas."""
        return credentials_lock(self._store.engine, account.channel, account.name)

    async def reload_account(self, account: Account) -> Account:
        """The account as stored now (another replica may have rotated its credentials)."""
        current = await self._accounts.get(account.name)
        return account if current is None else current[0]

    async def mark_credentials(self, account: Account, values: Mapping[str, str]) -> Account:
        """Persist a note beside the credentials (e.g. "refresh in flight") without a new version:
        parked jobs stay parked and nothing reloads the account for it."""
        await self._accounts.update(account.name, credentials=values, bump=False)
        current = await self._accounts.get(account.name)
        return account if current is None else current[0]

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        """Persist rotated credentials (merged into the current ones) and return the account to use."""
        await self._accounts.update(account.name, credentials=credentials)
        current = await self._accounts.get(account.name)
        if current is None:  # removed meanwhile: keep working with what we were given
            log.warning(
                "account %s/%s vanished while saving rotated credentials", account.channel, account.name
            )
            return account
        return current[0]
