"""A press list's recipient: the one model the tracker's press-list API checks and the e-mail
publisher reads (the list is the e-mail account's option ``recipients``).

A recipient without a consent date is refused (Decree 13/2023/ND-CP on personal data: processing
needs the subject's consent, and the office must show when it was given).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from loa.events.constraints import Text
from loa.events.content import PlainText
from loa.events.delivery import MAX_RECIPIENTS as MAX_RECIPIENTS  # the list's bound is the report's

EMAIL_PATTERN = r"^[^@\s<>\"(),;:]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$"
RECIPIENTS_OPTION = "recipients"
CONTACT_OPTION = "contact"
"""The account option holding the spokesperson's contact block (lines)."""


class PressContact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[PlainText, Text(min_length=1, max_length=200)]
    outlet: Annotated[PlainText, Text(min_length=1, max_length=200)]
    email: Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)]
    unit: Annotated[PlainText, Text(min_length=1, max_length=200)]
    consent_date: date


PRESS_LIST = TypeAdapter(list[PressContact])


def recipient_id(email: str) -> str:
    """A stable id that names a recipient in delivery records, events and logs without the address:
    the e-mail publisher keys each answer by it, the tracker finds the name and outlet by it."""
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:16]
