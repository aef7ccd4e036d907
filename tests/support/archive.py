"""The archiver as the archive tests run it: its settings on a test's topics and bucket, served as
its process serves it (``python -m services.archive``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from loa.archive.settings import ArchiveSettings
from loa.settings import LoaSettings
from services.archive.app import create_app
from tests.support.serve import serving


def archiver_settings(base: LoaSettings, bucket: str, retention: str = "default=1d") -> ArchiveSettings:
    """``base``'s broker, topics and S3 store, the archive in ``bucket``, records kept ``retention``."""
    return ArchiveSettings(
        kafka_bootstrap=base.kafka_bootstrap,
        topic_prefix=base.topic_prefix,
        s3_endpoint=base.s3_endpoint,
        s3_access_key=base.s3_access_key,
        s3_secret_key=base.s3_secret_key,
        s3_archive_bucket=bucket,
        archive_retention=retention,
    )


@contextlib.asynccontextmanager
async def running_archiver(settings: ArchiveSettings) -> AsyncIterator[None]:
    async with serving(create_app(settings)):
        yield
