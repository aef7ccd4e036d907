"""The archive bucket: records chained per content, payloads by hash, a day index for periods.

Object lock: the stack's setup makes the bucket with object lock (MinIO: ``mc mb --with-lock``,
``make_bucket(object_lock=True)``; S3 "Locking objects", which needs versioning, turned on with
it). ``lock_supported`` asks the bucket's object lock configuration once (S3
``GetObjectLockConfiguration``; ``ObjectLockConfigurationNotFoundError`` when the bucket has none,
and a store without the feature, such as SeaweedFS in CI, refuses the call); then every record is
written with a retention (``GOVERNANCE`` or ``COMPLIANCE``, until ``Retention.until``), or without
one and the hash chain alone shows tampering.

Keys: ``records/<content>/<seq>-<event id>.json`` (``loa.archive.records``), ``payloads/<sha256>.json``
(what a publisher sent, content-addressed, read off ``loa.payload.v1``), ``index/<YYYY-MM-DD>/<content>``
(empty: the contents a day touched, for an export by period).
"""

from __future__ import annotations

import io
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.error import S3Error
from minio.objectlockconfig import DAYS, YEARS, ObjectLockConfig
from minio.retention import Retention as LockRetention

from loa.archive.records import (
    EMPTY,
    Head,
    Source,
    build_record,
    content_prefix,
    head_of,
    record_key,
    sha256_hex,
)
from loa.archive.retention import Period

log = logging.getLogger(__name__)

LockMode = Literal["GOVERNANCE", "COMPLIANCE"]
RetentionFor = Callable[[str | None, datetime], datetime | None]
"""(content kind, archived at) → the record is locked until (None: no lock)."""
INDEX = "index/"
PAYLOADS = "payloads/"
INDEXED_REMEMBERED = 10_000
JSON = "application/json"


def index_key(day: date, content_id: str) -> str:
    return f"{INDEX}{day.isoformat()}/{content_id}"


def payload_key(sha256: str) -> str:
    return f"{PAYLOADS}{sha256}.json"


@dataclass(frozen=True)
class Appended:
    key: str
    size: int
    locked: bool
    head: Head
    """The content's head after this record (the next append of the same batch may start from it)."""


class ArchiveStore:
    """Reads and appends to one archive bucket with a ``Minio`` client (blocking calls)."""

    def __init__(self, client: Minio, bucket: str, lock_mode: LockMode = "GOVERNANCE") -> None:
        self.client = client
        self.bucket = bucket
        self.lock_mode = lock_mode
        self._lock: bool | None = None
        self._indexed: OrderedDict[str, None] = OrderedDict()
        """Day index keys this process wrote: one PUT per content and day, not per record."""

    def ensure_bucket(self, default: Period | None = None) -> None:
        """Make the bucket if missing: with object lock and ``default`` as its default retention
        (what objects written without one, the publishers' payloads, get); a store that refuses
        the lock gets a bucket without (the hash chain alone). An existing bucket is left as it is:
        a service's user may not configure it (``deploy/local/storage_users.py`` does, as root)."""
        if self.client.bucket_exists(self.bucket):
            return
        try:
            self.client.make_bucket(self.bucket, object_lock=True)
        except S3Error as e:
            if e.code in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return
            log.warning(
                "archive: bucket %s without object lock (%s): the hash chain alone", self.bucket, e.code
            )
            self.client.make_bucket(self.bucket)
            return
        if default is not None:
            self.set_default_retention(default)

    def set_default_retention(self, default: Period) -> None:
        mode = GOVERNANCE if self.lock_mode == "GOVERNANCE" else COMPLIANCE
        duration = (default.years, YEARS) if default.years else (default.days, DAYS)
        self.client.set_object_lock_config(self.bucket, ObjectLockConfig(mode, *duration))

    def lock_supported(self) -> bool:
        """Whether the bucket has object lock on (asked once)."""
        if self._lock is None:
            try:
                config = self.client.get_object_lock_config(self.bucket)
                self._lock = config is not None
            except S3Error as e:
                log.info(
                    "archive: no object lock on %s (%s): tampering shows in the hash chain",
                    self.bucket,
                    e.code,
                )
                self._lock = False
        return self._lock

    def _put(self, key: str, data: bytes, until: datetime | None) -> bool:
        retention = None
        if until is not None and self.lock_supported():
            retention = LockRetention(GOVERNANCE if self.lock_mode == "GOVERNANCE" else COMPLIANCE, until)
        self.client.put_object(
            self.bucket, key, io.BytesIO(data), len(data), content_type=JSON, retention=retention
        )
        return retention is not None

    def keys(self, prefix: str) -> list[str]:
        objects = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
        return sorted(o.object_name for o in objects if o.object_name)

    def read(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def head(self, content_id: str) -> tuple[Head, list[str]]:
        keys = self.keys(content_prefix(content_id))
        return (head_of(keys, self.read(keys[-1])) if keys else EMPTY), keys

    def append(
        self,
        content_id: str,
        event_id: str,
        raw: bytes,
        source: Source,
        content_kind: str | None,
        until: RetentionFor,
        head: Head | None = None,
    ) -> Appended | None:
        """Chain ``raw`` after the content's last record; None if that event is archived already
        (Kafka delivers at least once). One writer per content: the archiver's consumer owns the
        content's partition of both topics (``services/archive``). ``head``: the content's head as
        the previous append of the same batch left it (saves the LIST and the GET); else read."""
        if head is None:
            head, _ = self.head(content_id)
        if event_id in head.event_ids:
            return None
        now = datetime.now(UTC)
        data = build_record(head, content_id, raw, source, content_kind, now)
        key = record_key(content_id, head.seq + 1, event_id)
        kind = content_kind or head.content_kind
        locked = self._put(key, data, until(kind, now))
        self._index(index_key(now.date(), content_id))
        after = Head(head.seq + 1, sha256_hex(data), kind, head.event_ids | {event_id})
        return Appended(key, len(data), locked, after)

    def _index(self, key: str) -> None:
        if key in self._indexed:
            return
        self._put(key, b"", None)
        self._indexed[key] = None
        while len(self._indexed) > INDEXED_REMEMBERED:
            self._indexed.popitem(last=False)

    def put_payload(self, sha256: str, data: bytes) -> None:
        """Store what was sent under its hash (content-addressed). No retention of its own: the
        bucket's default retention (the setup's, ``default=``) locks it.

        No look first (a HEAD for an object most often not there costs as much CPU as the PUT):
        stored again, the same bytes become a second version, the first one still locked. The
        archiver remembers what it stored (``services/archive/payloads.py``), so only a batch read
        again after a restart or a rebalance stores a payload twice."""
        self._put(payload_key(sha256), data, None)

    def contents_between(self, start: date, end: date) -> list[str]:
        """The contents with a record archived on a day from ``start`` to ``end`` (both included)."""
        found: set[str] = set()
        for day in _days(start, end):
            found.update(k.rsplit("/", 1)[1] for k in self.keys(f"{INDEX}{day.isoformat()}/"))
        return sorted(found)


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
