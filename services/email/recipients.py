"""A press list's recipients, as the account's option ``recipients`` holds them.

Each: ``{"name", "outlet", "email", "unit", "consent_date"}``. A recipient without a consent date is
never sent to (Decree 13/2023/ND-CP on personal data: processing needs the subject's consent).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from loa.channels import Account, PermanentError
from loa.text import nfc
from services.email.message import Recipient

EMAIL = r"^[^@\s<>\"(),;:]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$"


class PressContact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    outlet: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(pattern=EMAIL, max_length=254)]
    unit: Annotated[str, Field(min_length=1, max_length=200)]
    consent_date: date

    def recipient(self) -> Recipient:
        return Recipient(nfc(self.name), nfc(self.outlet), self.email)


_LIST = TypeAdapter(list[PressContact])


def press_list(account: Account) -> list[Recipient]:
    """The account's recipients, each address once; a malformed list names the field and the reason."""
    raw: Any = account.options.get("recipients")
    if not raw:
        raise PermanentError(f"press list {account.name}: options.recipients is empty (no one to send to)")
    try:
        contacts = _LIST.validate_python(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PermanentError(f"press list {account.name}: recipients.{where}: {first['msg']}") from None
    seen: dict[str, Recipient] = {}
    for contact in contacts:
        recipient = contact.recipient()
        seen.setdefault(recipient.id, recipient)
    return list(seen.values())
