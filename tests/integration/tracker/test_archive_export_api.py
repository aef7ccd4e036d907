"""``GET /api/v1/archive/export`` and ``/archive`` on the tracker: the archive found by title words
without diacritics, exported as a signed ZIP that ``loa.archive.bundle.verify`` passes, per content
and per period, for the units one may export only, and audited.

The archive is written as the archiver writes it (``ArchiveStore.append``) into this test's own
object-locked bucket; the tracker's view is fed the same events (``apply_content_events``)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from minio import Minio
from sqlalchemy import select

from loa.archive import signing
from loa.archive.bundle import verify
from loa.archive.records import Source
from loa.archive.retention import Retention
from loa.archive.store import ArchiveStore
from loa.events import ContentUpdated, DeliveryState, topics
from loa.settings import LoaSettings
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.tables import audit_log
from tests.conftest import Stack
from tests.integration.tracker.support import approved, auth, running_tracker, status, tracker_settings

pytestmark = pytest.mark.integration

SO_TU_PHAP = "Sở Tư pháp"
OTHER = "Sở Y tế"
OTHER_TOKEN = "so-y-te-viewer-token-0123456789abcdef-0123"
FIXED = "Đính chính: Lịch tiếp công dân của Sở Tư pháp tháng 12/2026"


def archived(store: ArchiveStore, events: Sequence[tuple[str, object]]) -> None:
    retention = Retention.parse("default=1d")
    for n, (topic, event) in enumerate(events):
        payload = event.payload  # type: ignore[attr-defined]
        cid = getattr(payload, "content_id", None) or payload.id
        kind = getattr(payload, "kind", None)
        raw = event.model_dump_json().encode()  # type: ignore[attr-defined]
        store.append(cid, str(event.event_id), raw, Source(topic, 0, n), kind and kind.value, retention.until)  # type: ignore[attr-defined]


async def test_search_export_and_its_permissions(
    settings: LoaSettings, sqlite_url: str, stack: Stack, archive_bucket: str, minio_client: Minio
) -> None:
    private = signing.new_private_b64()
    v1 = approved("lich-tiep-dan-tu-phap", [("facebook", "so-tu-phap")], unit=SO_TU_PHAP,
                  title="Lịch tiếp công dân của Sở Tư pháp tháng 12/2026")  # fmt: skip
    v2 = ContentUpdated(payload=v1.payload.model_copy(update={"version": 2, "title": FIXED}))
    elsewhere = approved(
        "tiem-chung-mo-rong", [("facebook", "so-y-te")], unit=OTHER, title="Tiêm chủng mở rộng"
    )
    published = status(v1.payload.id, "facebook", "so-tu-phap", DeliveryState.PUBLISHED, 2)
    events = [
        (topics.CONTENT, v1),
        (topics.DELIVERY, published),
        (topics.CONTENT, v2),
        (topics.CONTENT, elsewhere),
    ]
    archived(ArchiveStore(minio_client, archive_bucket), events)

    ts = tracker_settings(
        settings,
        sqlite_url,
        tracker_consume=False,
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=stack.s3_secret_key,
        s3_archive_bucket=archive_bucket,
        archive_signing_key=private,
        tracker_tokens={
            **tracker_settings(settings, sqlite_url).tracker_tokens,
            "y-te": {"token": OTHER_TOKEN, "role": "viewer", "units": [OTHER]},
        },
    )
    trusted = signing.private_key(private).public_key()
    async with running_tracker(ts) as (app, client):
        await apply_content_events(app.state.tracker.engine, [v1, v2, elsewhere])
        await apply_statuses(app.state.tracker.engine, [published])

        page = await client.get("/archive", params={"q": "dinh chinh tu phap"}, headers=auth("viewer"))
        assert page.status_code == 200
        assert FIXED in page.text and "Tiêm chủng" not in page.text
        assert "/api/v1/archive/export?content_id=lich-tiep-dan-tu-phap" in page.text

        one = await client.get(
            "/api/v1/archive/export", params={"content_id": v1.payload.id}, headers=auth("viewer")
        )
        assert one.status_code == 200 and one.headers["content-type"] == "application/zip"
        verdict = verify(one.content, trusted)
        assert verdict.ok, verdict.problems
        assert (verdict.records, verdict.contents) == (3, 1)

        today = datetime.now(UTC).date().isoformat()
        period = await client.get("/api/v1/archive/export", params={"from": today}, headers=auth("admin"))
        assert verify(period.content, trusted).contents == 2
        theirs = await client.get(
            "/api/v1/archive/export",
            params={"from": today},
            headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
        )
        assert theirs.status_code == 200
        with zipfile.ZipFile(io.BytesIO(theirs.content)) as z:
            assert {n.split("/")[1] for n in z.namelist() if n.startswith("records/")} == {
                "tiem-chung-mo-rong"
            }

        refused = await client.get("/api/v1/archive/export", params={"content_id": v1.payload.id},
                                   headers={"Authorization": f"Bearer {OTHER_TOKEN}"})  # fmt: skip
        assert refused.status_code == 403
        months = {"from": "2026-01-01", "to": "2026-03-01"}
        too_long = await client.get("/api/v1/archive/export", params=months, headers=auth("admin"))
        assert too_long.status_code == 422, too_long.text
        assert "to: from 2026-01-01 to 2026-03-01" in too_long.text

        async with app.state.tracker.engine.connect() as conn:
            rows = (await conn.execute(select(audit_log).where(audit_log.c.action == "export"))).all()
    details = sorted(r.detail for r in rows)
    assert any(d.startswith("archive content_ids=") for d in details)
    assert sum(d.startswith("archive from=") for d in details) == 2
