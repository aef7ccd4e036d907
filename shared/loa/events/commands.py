"""``loa.commands.v1``: what ops ask publishers to do (key = content id).

Retracting a content everywhere is not a command: it is a ``content.retracted`` event on
``loa.content.v1``, whoever asks for it (the ingest API, the tracker, the CLI).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from loa.events.constraints import Text
from loa.events.content import AccountName, ChannelName, ContentId
from loa.events.envelope import Envelope, Model
from loa.text import NfcStr


class DeliveryRef(Model):
    content_id: ContentId
    channel: ChannelName
    account: AccountName
    requested_by: Annotated[NfcStr, Text(min_length=1, max_length=200)]
    reason: Annotated[NfcStr, Text(max_length=2000)] = ""


class RetryDelivery(Envelope):
    """Try a failed, parked or retrying delivery again now."""

    type: Literal["delivery.retry"] = "delivery.retry"
    payload: DeliveryRef


class CancelDelivery(Envelope):
    """Stop a delivery that has not gone yet."""

    type: Literal["delivery.cancel"] = "delivery.cancel"
    payload: DeliveryRef


Command = Annotated[RetryDelivery | CancelDelivery, Field(discriminator="type")]
