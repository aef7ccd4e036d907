"""A press list's recipients, as the account's option ``recipients`` holds them (``loa.press``)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from loa.channels import Account, PermanentError
from loa.press import PRESS_LIST, RECIPIENTS_OPTION, PressContact
from loa.text import nfc
from services.email.message import Recipient


def _recipient(contact: PressContact) -> Recipient:
    return Recipient(nfc(contact.name), nfc(contact.outlet), contact.email)


def press_list(account: Account) -> list[Recipient]:
    """The account's recipients, each address once; a malformed list names the field and the reason."""
    raw: Any = account.options.get(RECIPIENTS_OPTION)
    if not raw:
        raise PermanentError(f"press list {account.name}: options.recipients is empty (no one to send to)")
    try:
        contacts = PRESS_LIST.validate_python(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PermanentError(f"press list {account.name}: recipients.{where}: {first['msg']}") from None
    seen: dict[str, Recipient] = {}
    for contact in contacts:
        recipient = _recipient(contact)
        seen.setdefault(recipient.id, recipient)
    return list(seen.values())
