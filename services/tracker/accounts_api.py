"""``/api/v1/accounts``: channel accounts, admin only (``manage_accounts``). Every change is
audited (who, which account, the names of what changed); no answer carries a credential."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction
from loa.events.content import AccountName, ChannelName
from services.tracker import accounts
from services.tracker.accounts import AccountChange, AccountExistsError, NoAccountError
from services.tracker.api import ERRORS, Deps
from services.tracker.auth import requires, visible_units
from services.tracker.context import Tracker
from services.tracker.views import AccountFields, AccountIn, AccountOut, AccountUnitOut, AccountUpdate

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["accounts"])
Admin = Annotated[Principal, Depends(requires(Action.MANAGE_ACCOUNTS))]
Reader = Annotated[Principal, Depends(requires(Action.READ))]


@router.get("/accounts", response_model=list[AccountOut], summary="Every channel account")
async def list_accounts(t: Deps, _: Admin) -> list[AccountOut]:
    return await accounts.list_accounts(t.engine)


@router.get("/account-units", response_model=list[AccountUnitOut], summary="Each channel account's unit")
async def account_units(t: Deps, request: Request, who: Reader) -> list[AccountUnitOut]:
    """The accounts table is the one owner of which unit an account belongs to; the ingest reads it
    here (with a read-only token) to check a content's targets. Of the units the caller may read; an
    account of no unit only to a reader of every unit."""
    units = visible_units(request, who)
    return [
        AccountUnitOut(channel=a.channel, name=a.name, unit=a.unit)
        for a in await accounts.list_accounts(t.engine)
        if units is None or (a.unit is not None and a.unit in units)
    ]


@router.post("/accounts", status_code=201, response_model=AccountOut, summary="Add a channel account")
async def add(t: Deps, request: Request, who: Admin, body: AccountIn) -> AccountOut:
    """The channel's publisher adds it within seconds (``account.set``)."""
    return await change_account(t, request, who, body.channel, body.name, body, create=True)


@router.patch("/accounts/{channel}/{name}", response_model=AccountOut, summary="Change a channel account")
async def change(
    t: Deps, request: Request, who: Admin, channel: ChannelName, name: AccountName, body: AccountUpdate
) -> AccountOut:
    """Credentials and options merge into the stored ones unless ``replace``; a parked account
    comes back with its new version."""
    return await change_account(t, request, who, channel, name, body, create=False, replace=body.replace)


@router.delete("/accounts/{channel}/{name}", response_model=AccountOut, summary="Remove a channel account")
async def remove(
    t: Deps, request: Request, who: Admin, channel: ChannelName, name: AccountName
) -> AccountOut:
    """Its deliveries wait in needs_attention until it is added again."""
    try:
        gone = await accounts.remove_account(t, channel, name, f"tracker:{who.name}")
    except NoAccountError as e:
        raise HTTPException(404, str(e)) from None
    await _audit(t, request, who, gone, f"remove {channel}/{name}")
    return gone


async def change_account(
    t: Tracker,
    request: Request,
    who: Principal,
    channel: str,
    name: str,
    body: AccountFields,
    *,
    create: bool,
    replace: bool = False,
) -> AccountOut:
    """Add or change an account, audited: the one path of the API, the dashboard and Connect."""
    if channel not in t.settings.channel_names:
        raise HTTPException(422, f"channel: {channel!r} is not one of LOA_CHANNELS")
    change = AccountChange(
        unit=body.unit,
        options=body.options,
        credentials={k: v.get_secret_value() for k, v in body.credentials.items()},
        expires_at=body.expires_at,
        replace=replace,
        unit_given="unit" in body.model_fields_set,
        expires_given="expires_at" in body.model_fields_set,
    )
    try:
        await accounts.set_account(t, channel, name, change, f"tracker:{who.name}", create=create)
    except AccountExistsError as e:
        raise HTTPException(409, str(e)) from None
    except NoAccountError as e:
        raise HTTPException(404, str(e)) from None
    found = await accounts.get_account(t.engine, channel, name)
    assert found is not None
    await _audit(
        t, request, who, found, f"{'add' if create else 'update'} {channel}/{name}: {change.summary()}"
    )
    return found


async def _audit(t: Tracker, request: Request, who: Principal, account: AccountOut, detail: str) -> None:
    """One ``account_change`` row: the account, its unit and what changed (names, never values)."""
    await record(
        t.audit,
        actor(who, request),
        AuditAction.ACCOUNT_CHANGE,
        account=account.name,
        unit=account.unit,
        detail=detail,
    )
