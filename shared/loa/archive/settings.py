"""Settings of the archive: the archiver (``services.archive``) and ``loa archive`` share them."""

from __future__ import annotations

from typing import Literal

from minio import Minio
from pydantic import Field, SecretStr, model_validator

from loa.archive.retention import Retention
from loa.archive.store import ArchiveStore
from loa.kafka_acl import ARCHIVE_GROUP, ARCHIVE_PAYLOADS_GROUP
from loa.media.store import bounded_http_client
from loa.settings import LoaSettings


class ArchiveAccess(LoaSettings):
    """What reads or writes the archive needs: the bucket (``LOA_S3_ARCHIVE_BUCKET``), the lock mode
    and the export's keys. The archiver, ``loa archive`` and the tracker's export share it."""

    archive_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE",
        description="S3 object lock mode of each record: COMPLIANCE cannot be shortened by anyone, "
        "GOVERNANCE by a user granted s3:BypassGovernanceRetention",
    )
    archive_signing_key: SecretStr = Field(
        default=SecretStr(""), description="base64 of a 32-byte Ed25519 private key: signs exports"
    )
    archive_public_key: str = Field(
        default="", description="base64 of the Ed25519 public key ``loa archive verify`` trusts"
    )

    def archive_store(self) -> ArchiveStore:
        client = Minio(
            self.s3_endpoint,
            access_key=self.s3_access_key.get_secret_value(),
            secret_key=self.s3_secret_key.get_secret_value(),
            secure=self.s3_secure,
            http_client=bounded_http_client(self.s3_secure),
        )
        return ArchiveStore(client, self.s3_archive_bucket, self.archive_lock_mode)


class ArchiveSettings(ArchiveAccess):
    archive_host: str = "127.0.0.1"
    archive_port: int = Field(default=9110, description="/livez, /readyz, /metrics")
    archive_group_id: str = ARCHIVE_GROUP
    archive_payloads_group_id: str = ARCHIVE_PAYLOADS_GROUP
    archive_retention: str = Field(
        default="press_release=10y,correction=10y,default=5y",
        description="KIND=PERIOD,... (y: years, d: days); default= is required",
    )

    @model_validator(mode="after")
    def _retention_parses(self) -> ArchiveSettings:
        self.retention()  # a bad table is refused at start, naming the setting
        return self

    def retention(self) -> Retention:
        return Retention.parse(self.archive_retention)
