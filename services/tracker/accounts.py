"""Channel accounts as the accounts API sets them: the tracker's record, and the commands that
carry each change to the channel's publisher.

The tracker never holds a publisher's database credentials: an add or a change is an
``account.set`` command on ``loa.commands.v1`` (key ``channel/account``), its credentials sealed
with ``LOA_CREDENTIALS_KEY`` for that account alone; the channel's publisher applies it to its own
job store. The tracker keeps what may be shown (unit, options, the credentials' *names*, expiry,
who changed it last) in ``channel_accounts``; the values exist only in the command and the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.events import (
    AccountSettings,
    DeliveryState,
    ErrorClass,
    RemoveAccount,
    SetAccount,
    account_key,
    topics,
    utcnow,
)
from loa.events.commands import AccountRef
from loa.publisher.sealing import load_cipher, seal_for_transit
from services.tracker.context import Tracker
from services.tracker.tables import channel_accounts, deliveries
from services.tracker.views import AccountOut

PRODUCER = "loa-tracker"


class AccountExistsError(LookupError):
    pass


class NoAccountError(LookupError):
    pass


@dataclass(frozen=True)
class AccountChange:
    """What a person asked to change; a field left ``None`` stays as it is."""

    unit: str | None = None
    options: Mapping[str, Any] | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None
    replace: bool = False
    unit_given: bool = False
    expires_given: bool = False

    def summary(self) -> str:
        """For the audit log: the names of what changed, never a credential's value."""
        parts = []
        if self.credentials:
            parts.append("credentials " + ", ".join(sorted(self.credentials)))
        if self.options:
            parts.append("options " + ", ".join(sorted(self.options)))
        if self.unit_given:
            parts.append(f"unit {self.unit or '-'}")
        if self.expires_given:
            parts.append(f"expires {self.expires_at.isoformat() if self.expires_at else '-'}")
        if self.replace:
            parts.append("(replacing)")
        return "; ".join(parts) or "nothing"


async def list_accounts(engine: AsyncEngine) -> list[AccountOut]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(channel_accounts).order_by(channel_accounts.c.channel, channel_accounts.c.name)
            )
        ).all()
        parked = await _parked(conn)
    return [_out(r, (r.channel, r.name) in parked) for r in rows]


async def get_account(engine: AsyncEngine, channel: str, name: str) -> AccountOut | None:
    return next((a for a in await list_accounts(engine) if (a.channel, a.name) == (channel, name)), None)


async def _parked(conn: AsyncConnection) -> set[tuple[str, str]]:
    """Accounts a platform refused since their last change: a delivery waits in needs_attention
    with an auth error that came after it (the publisher parks the account until it changes)."""
    stmt = (
        select(deliveries.c.channel, deliveries.c.account)
        .join(
            channel_accounts,
            (channel_accounts.c.channel == deliveries.c.channel)
            & (channel_accounts.c.name == deliveries.c.account),
        )
        .where(
            deliveries.c.state == DeliveryState.NEEDS_ATTENTION.value,
            deliveries.c.error_class == ErrorClass.AUTH.value,
            deliveries.c.state_at >= channel_accounts.c.updated_at,
        )
        .distinct()
    )
    return {(r.channel, r.account) for r in (await conn.execute(stmt)).all()}


def _out(row: Any, parked: bool) -> AccountOut:
    return AccountOut(
        channel=row.channel,
        name=row.name,
        unit=row.unit,
        options=row.options,
        credential_names=row.credential_names,
        expires_at=row.expires_at,
        expired=row.expires_at is not None and row.expires_at <= utcnow(),
        parked=parked,
        refresh_token=any(n.endswith("refresh_token") for n in row.credential_names),
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


async def set_account(
    t: Tracker, channel: str, name: str, change: AccountChange, requested_by: str, *, create: bool
) -> None:
    """Add (``create``) or change an account: the row and the command in one step (the row is
    committed only once Kafka took the command, so the list never shows what no publisher got)."""
    async with t.engine.begin() as conn:
        row = (await conn.execute(select(channel_accounts).where(*_this(channel, name)))).first()
        if create and row is not None:
            raise AccountExistsError(f"account {channel}/{name} exists; change it instead")
        if not create and row is None:
            raise NoAccountError(f"no account {channel}/{name}")
        values = _merged(row, change) | {"updated_by": requested_by, "updated_at": utcnow()}
        if row is None:
            await conn.execute(
                insert(channel_accounts).values(channel=channel, name=name, version=1, **values)
            )
        else:
            await conn.execute(
                update(channel_accounts)
                .where(*_this(channel, name))
                .values(version=row.version + 1, **values)
            )
        sealed = (
            seal_for_transit(load_cipher(t.settings), channel, name, change.credentials)
            if change.credentials
            else None
        )
        payload = AccountSettings(
            channel=channel,
            account=name,
            requested_by=requested_by,
            options=dict(change.options or {}),
            credentials=sealed,
            replace=change.replace,
        )
        await _send(t, SetAccount(payload=payload, producer=PRODUCER))


def _this(channel: str, name: str) -> tuple[ColumnElement[bool], ...]:
    return (channel_accounts.c.channel == channel, channel_accounts.c.name == name)


def _merged(row: Any, change: AccountChange) -> dict[str, Any]:
    """The row's new values, merged as the publisher merges (unless ``replace``)."""
    options = dict(row.options) if row is not None else {}
    names = set(row.credential_names) if row is not None else set()
    if change.options:
        options = dict(change.options) if change.replace else {**options, **change.options}
    if change.credentials:
        names = set(change.credentials) if change.replace else names | set(change.credentials)
    unit = change.unit if change.unit_given or row is None else row.unit
    expires = change.expires_at if change.expires_given or row is None else row.expires_at
    return {"unit": unit, "options": options, "credential_names": sorted(names), "expires_at": expires}


async def remove_account(t: Tracker, channel: str, name: str, requested_by: str) -> AccountOut:
    """Remove the account everywhere; what it was (for the audit log)."""
    found = await get_account(t.engine, channel, name)
    if found is None:
        raise NoAccountError(f"no account {channel}/{name}")
    async with t.engine.begin() as conn:
        await conn.execute(
            delete(channel_accounts).where(
                channel_accounts.c.channel == channel, channel_accounts.c.name == name
            )
        )
        ref = AccountRef(channel=channel, account=name, requested_by=requested_by)
        await _send(t, RemoveAccount(payload=ref, producer=PRODUCER))
    return found


async def _send(t: Tracker, command: SetAccount | RemoveAccount) -> None:
    key = account_key(command.payload.channel, command.payload.account)
    await t.broker.publish(
        command.model_dump_json().encode(), topic=t.settings.topic(topics.COMMANDS), key=key.encode()
    )
