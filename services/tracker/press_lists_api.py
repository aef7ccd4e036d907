"""``/api/v1/press-lists``: the journalists of a unit's press lists (``manage_press_lists``:
spokespersons and admins of the unit). Audited (who, which list, how many recipients; never an
address in the log).

The tracker owns the lists: a press list is the e-mail channel's account of that name (an admin
adds it with its SMTP login, ``loa accounts add email <list>``), its recipients that account's
option ``recipients`` (``loa.press``). A change goes to the publisher as the account's
``account.set`` on ``loa.commands.v1``, the path every account change takes, so the publisher's
read model of accounts is the one copy it sends from and no second command or store is needed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from loa.access import Principal
from loa.access.policy import Action
from loa.access.principal import ALL_UNITS
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction
from loa.events.content import AccountName
from loa.press import CONTACT_OPTION, MAX_RECIPIENTS, PRESS_LIST, RECIPIENTS_OPTION, PressContact
from services.tracker import accounts
from services.tracker.accounts import AccountChange, NoAccountError
from services.tracker.api import ERRORS, Deps
from services.tracker.auth import check_unit, requires
from services.tracker.views import AccountOut

CHANNEL = "email"
ContactLine = Annotated[str, Field(min_length=1, max_length=300)]
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["press lists"])
Manager = Annotated[Principal, Depends(requires(Action.MANAGE_PRESS_LISTS))]


class PressListSummary(BaseModel):
    name: str
    unit: str | None
    recipients: int


class PressListOut(PressListSummary):
    contact: list[str]
    people: list[PressContact]


class PressListIn(BaseModel):
    """The whole list (it replaces the one stored) and, if given, the contact block."""

    model_config = {"extra": "forbid"}

    people: list[PressContact] = Field(max_length=MAX_RECIPIENTS)
    contact: list[Annotated[str, Field(min_length=1, max_length=300)]] | None = Field(
        default=None, max_length=10
    )


def _people(account: AccountOut) -> list[PressContact]:
    return PRESS_LIST.validate_python(account.options.get(RECIPIENTS_OPTION) or [])


def _out(account: AccountOut) -> PressListOut:
    people = _people(account)
    contact = account.options.get(CONTACT_OPTION) or []
    return PressListOut(
        name=account.name, unit=account.unit, recipients=len(people), contact=list(contact), people=people
    )


@router.get("/press-lists", response_model=list[PressListSummary], summary="The press lists one may manage")
async def list_press_lists(t: Deps, request: Request, who: Manager) -> list[PressListSummary]:
    found = [a for a in await accounts.list_accounts(t.engine) if a.channel == CHANNEL]
    policy = request.app.state.auth.policy
    mine = [a for a in found if policy.may(who, Action.MANAGE_PRESS_LISTS, a.unit or ALL_UNITS)]
    return [PressListSummary(name=a.name, unit=a.unit, recipients=len(_people(a))) for a in mine]


@router.get("/press-lists/{name}", response_model=PressListOut, summary="A press list with its people")
async def get_press_list(t: Deps, request: Request, who: Manager, name: AccountName) -> PressListOut:
    return _out(await _list(t, request, who, name))


@router.put("/press-lists/{name}", response_model=PressListOut, summary="Replace a press list's people")
async def set_press_list(
    t: Deps, request: Request, who: Manager, name: AccountName, body: PressListIn
) -> PressListOut:
    """The publisher has the new list within seconds (``account.set``); a delivery under way sends
    to the list as it was when it began each recipient."""
    account = await _list(t, request, who, name)
    options: dict[str, Any] = {RECIPIENTS_OPTION: [p.model_dump(mode="json") for p in body.people]}
    if body.contact is not None:
        options[CONTACT_OPTION] = body.contact
    try:
        await accounts.set_account(
            t, CHANNEL, name, AccountChange(options=options), f"tracker:{who.name}", create=False
        )
    except NoAccountError as e:
        raise HTTPException(404, str(e)) from None
    before = len(_people(account))
    await record(
        t.audit,
        actor(who, request),
        AuditAction.PRESS_LIST_CHANGE,
        account=name,
        unit=account.unit,
        detail=f"press list {name}: {before} → {len(body.people)} recipients"
        + (", contact block" if body.contact is not None else ""),
    )
    changed = await accounts.get_account(t.engine, CHANNEL, name)
    assert changed is not None
    return _out(changed)


async def _list(t: Deps, request: Request, who: Principal, name: str) -> AccountOut:
    """The list's account, once ``who`` may manage its unit's lists (404 before 403 would tell an
    outsider which lists exist, so the unit is checked on what is found, and a missing list is 404)."""
    account = await accounts.get_account(t.engine, CHANNEL, name)
    if account is None:
        raise HTTPException(404, f"no press list {name!r} (an admin adds it: loa accounts add email {name})")
    check_unit(request, who, Action.MANAGE_PRESS_LISTS, account.unit)
    return account
