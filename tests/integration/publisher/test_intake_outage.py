"""An outage met while rendering is transient: the message comes again, the delivery is not failed.

Found by `make drill` (docs/drills.md): while MinIO was down, Zalo deliveries ended `failed` for
good with "render failed: ... Connection refused" — render reads the media store, and the intake
took every unexpected exception for an adapter bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from loa.channels import Account, Post, TransientError
from loa.events import Content, Target
from loa.media import MediaStore
from loa.publisher.accounts import AccountStore
from loa.publisher.intake import Intake
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.settings import LoaSettings
from loa.testing.private_stack import PrivateStack
from tests.integration.publisher.publisher_fake import FakeAdapter
from tests.integration.publisher.publisher_helpers import content

pytestmark = pytest.mark.integration


class MediaReadingAdapter(FakeAdapter):
    """Renders as the channels with media do: it looks the content's media up in the store first."""

    store: MediaStore

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        self.store.stat("sha256/" + "0" * 64)
        return await super().render(content, target, account)


async def test_an_object_store_outage_during_render_is_transient(
    settings: LoaSettings, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await migrate(engine)
    store = JobStore(engine, "fakechan")
    accounts = AccountStore(engine, "fakechan", Fernet(Fernet.generate_key()))
    await accounts.add("chinh", {"token": "ok"}, {"platform": str(tmp_path / "platform.db")})
    adapter = MediaReadingAdapter(context=None)  # type: ignore[arg-type]  # render needs no context here
    with PrivateStack.started(tmp_path, "minio") as ps:
        adapter.store = MediaStore(ps.settings(settings))
        ps.stop("minio")  # the real object store goes away
        intake = Intake(adapter, store, accounts)
        with pytest.raises(TransientError):
            await intake.take_in([content("tin-mat-ket-noi")])
    async with store.tx() as conn:
        assert await store.versions(conn, "tin-mat-ket-noi", "chinh") == []  # nothing failed for good
    await engine.dispose()
