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

from loa.media import MediaStore
from services.ingest.auth import Client, authenticate
from services.ingest.context import Ingest
from services.ingest.db import IngestDb
from services.ingest.relay import OutboxRelay
from services.ingest.settings import IngestSettings
from services.ingest.targets import Targets


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


async def _write_lock(ingest: IngestDep) -> asyncio.Lock:
    return ingest.write_lock


SettingsDep = Annotated[IngestSettings, Depends(_settings)]
StoreDep = Annotated[MediaStore, Depends(_store)]
DbDep = Annotated[IngestDb, Depends(_db)]
RelayDep = Annotated[OutboxRelay, Depends(_relay)]
TargetsDep = Annotated[Targets, Depends(_targets)]
WriteLockDep = Annotated[asyncio.Lock, Depends(_write_lock)]


def _client_who_may(permission: str) -> Callable[[Request, Ingest], Awaitable[Client]]:
    async def client(request: Request, ingest: IngestDep) -> Client:
        return authenticate(request, ingest.tokens, permission)

    return client


may_upload = _client_who_may("media")
may_publish = _client_who_may("publish")
may_retract = _client_who_may("retract")
# one callable each: FastAPI then runs it once per request however many dependencies name it
UploadingClient = Annotated[Client, Depends(may_upload)]
PublishingClient = Annotated[Client, Depends(may_publish)]
RetractingClient = Annotated[Client, Depends(may_retract)]
