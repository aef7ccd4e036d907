"""What the dispatcher's parts (parking, recovery, withdrawal) work with, given once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loa.channels import ChannelAdapter
from loa.publisher.accounts import AccountStore
from loa.publisher.outcomes import Outcomes
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.jobs import JobStore


@dataclass(eq=False)
class JobWorker:
    """A part of the dispatcher: it works on the jobs this replica holds through the channel's
    adapter, the stores and ``outcomes`` (which write as the lease owner), and sets ``wake`` when
    a job it moved is due at once."""

    adapter: ChannelAdapter
    store: JobStore
    accounts: AccountStore
    outcomes: Outcomes
    settings: PublisherSettings
    wake: asyncio.Event
