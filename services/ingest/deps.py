"""The ingest routes' typed dependencies, declared once: a handler names what it needs in its
signature (``db: DbDep``, ``client: PublishingClient``) and FastAPI takes it from the app's ``Ingest``.

They read only the request, so the OpenAPI schema shows no parameter for them; the clients are
checked before the handler reads any body (401/403 first, as before).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from loa.access import Principal
from loa.access.policy import Action, Policy
from loa.media import MediaStore
from services.ingest.auth import authenticate
from services.ingest.context import Ingest
from services.ingest.db import IngestDb
from services.ingest.relay import OutboxRelay
from services.ingest.settings import IngestSettings
from services.ingest.targets import Targets
from services.ingest.two_person import TwoPerson


async def _ingest(request: Request) -> Ingest:
    ingest: Ingest = request.app.state.ingest
    return ingest


IngestDep = Annotated[Ingest, Depends(_ingest)]


async def _settings(ingest: IngestDep) -> IngestSettings:
    return ingest.settings


async def _store(ingest: IngestDep) -> MediaStore:
    return ingest.store


async def _db(ingest: IngestDep) -> IngestDb:
    return ingest.db


async def _relay(ingest: IngestDep) -> OutboxRelay:
    return ingest.relay


async def _targets(ingest: IngestDep) -> Targets:
    return ingest.targets


async def _two_person(ingest: IngestDep) -> TwoPerson:
    return ingest.two_person


async def _write_lock(ingest: IngestDep) -> asyncio.Lock:
    return ingest.write_lock


SettingsDep = Annotated[IngestSettings, Depends(_settings)]
StoreDep = Annotated[MediaStore, Depends(_store)]
DbDep = Annotated[IngestDb, Depends(_db)]
RelayDep = Annotated[OutboxRelay, Depends(_relay)]
TargetsDep = Annotated[Targets, Depends(_targets)]
WriteLockDep = Annotated[asyncio.Lock, Depends(_write_lock)]
TwoPersonDep = Annotated[TwoPerson, Depends(_two_person)]


async def _policy(ingest: IngestDep) -> Policy:
    return ingest.policy


PolicyDep = Annotated[Policy, Depends(_policy)]


def caller_who_may(action: Action) -> Callable[[Request, Ingest], Awaitable[Principal]]:
    """The route's action, declared once: 401/403 before the body is read. The unit of what the
    body touches is checked by the handler once it is known (``auth.require``)."""

    async def caller(request: Request, ingest: IngestDep) -> Principal:
        return await authenticate(request, ingest.tokens, ingest.policy, action)

    caller.action = action  # type: ignore[attr-defined]  # read by the permission matrix
    return caller


may_upload = caller_who_may(Action.UPLOAD_MEDIA)
may_submit = caller_who_may(Action.SUBMIT)
may_retract = caller_who_may(Action.RETRACT)
# one callable each: FastAPI then runs it once per request however many dependencies name it
# (the audit's ``refusals_recorded`` names the same one as the route)
Uploader = Annotated[Principal, Depends(may_upload)]
Submitter = Annotated[Principal, Depends(may_submit)]
Retractor = Annotated[Principal, Depends(may_retract)]
Reader = Annotated[Principal, Depends(caller_who_may(Action.READ))]
Approver = Annotated[Principal, Depends(caller_who_may(Action.APPROVE))]
Rejecter = Annotated[Principal, Depends(caller_who_may(Action.REJECT))]
