"""``GET /api/v1/deliveries/{id}/recipients``: each recipient of a list delivery (e-mail), its state,
SMTP code and reply, from the report its status events carried (``loa.events.RecipientsReport``).

The report names recipients by id only (``loa.press.recipient_id``: a hash of the address). The
tracker holds the press list (the e-mail account's option ``recipients``), so it finds the name and
outlet behind each id by hashing the list's addresses with the same function; it shows them only to
who may see that list (``manage_press_lists`` on the list's unit: its spokespersons and admins).
Anyone else who may read the delivery (a viewer, an editor, an operator) gets the counts and the ids.
No address is ever in the answer: the press-list page shows addresses to those who manage them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from loa.access import Principal
from loa.access.policy import Action
from loa.access.principal import ALL_UNITS
from loa.events.delivery import RecipientsReport, RecipientState
from loa.press import PRESS_LIST, RECIPIENTS_OPTION, recipient_id
from services.tracker import accounts
from services.tracker.api import ERRORS, Deps, Viewer, delivery_or_404
from services.tracker.context import Tracker
from services.tracker.press_lists_api import CHANNEL
from services.tracker.tables import delivery_recipients

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["deliveries"])
DeliveryIdPath = Annotated[str, Path(max_length=400)]
STATE_ORDER = (
    RecipientState.BOUNCED,
    RecipientState.COMPLAINED,
    RecipientState.DEFERRED,
    RecipientState.SENT,
)
"""The table lists what needs a look first."""


class RecipientRow(BaseModel):
    id: str = Field(description="a hash of the address (loa.press.recipient_id), never the address")
    state: RecipientState
    code: int | None = Field(description="the SMTP reply code")
    reply: str | None = Field(description="the SMTP reply text, cut to 200 characters")
    name: str | None = Field(default=None, description="only to who may see the press list")
    outlet: str | None = Field(default=None, description="only to who may see the press list")


class DeliveryRecipients(BaseModel):
    delivery_id: str
    account: str
    names_shown: bool = Field(description="the caller may see the press list: names and outlets resolved")
    reported: bool = Field(description="a report has arrived (the publisher sends it with the answer)")
    counts: dict[RecipientState, int]
    recipients: list[RecipientRow]


@router.get(
    "/deliveries/{delivery_id}/recipients",
    response_model=DeliveryRecipients,
    summary="Each recipient of an e-mail delivery: state, SMTP code, reply (names: press list managers)",
)
async def get_recipients(
    t: Deps, who: Viewer, request: Request, delivery_id: DeliveryIdPath
) -> DeliveryRecipients:
    return await delivery_recipients_for(t, request, who, delivery_id)


async def delivery_recipients_for(
    t: Tracker, request: Request, who: Principal, delivery_id: str
) -> DeliveryRecipients:
    """The delivery's recipients as ``who`` may see them: 404 if unknown, 403 if another unit's."""
    d = await delivery_or_404(t, request, who, Action.READ, delivery_id)
    report = await _report(t, d.id)
    names: dict[str, tuple[str, str]] = {}
    shown = False
    account = await accounts.get_account(t.engine, CHANNEL, d.account) if d.channel == CHANNEL else None
    if account is not None:
        shown = request.app.state.auth.policy.may(who, Action.MANAGE_PRESS_LISTS, account.unit or ALL_UNITS)
    if shown and account is not None:
        people = PRESS_LIST.validate_python(account.options.get(RECIPIENTS_OPTION) or [])
        names = {recipient_id(p.email): (p.name, p.outlet) for p in people}
    rows = [
        RecipientRow(
            id=rid,
            state=o.state,
            code=o.code,
            reply=o.reply,
            name=names[rid][0] if rid in names else None,
            outlet=names[rid][1] if rid in names else None,
        )
        for rid, o in (report.recipients.items() if report else ())
    ]
    rows.sort(key=lambda r: (STATE_ORDER.index(r.state), r.name or "~", r.id))
    counts = dict(report.counts) if report else dict.fromkeys(RecipientState, 0)
    return DeliveryRecipients(
        delivery_id=d.id,
        account=d.account,
        names_shown=shown,
        reported=report is not None,
        counts=counts,
        recipients=rows,
    )


async def _report(t: Tracker, delivery_id: str) -> RecipientsReport | None:
    async with t.engine.connect() as conn:
        raw = (
            await conn.execute(
                delivery_recipients.select()
                .with_only_columns(delivery_recipients.c.report)
                .where(delivery_recipients.c.delivery_id == delivery_id)
            )
        ).scalar_one_or_none()
    return RecipientsReport.model_validate_json(raw) if raw else None
