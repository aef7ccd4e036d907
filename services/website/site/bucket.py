"""The public website bucket: small blocking helpers over the minio client (call via to_thread)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"})


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    etag: str
    size: int
    content_type: str
    last_modified: datetime | None


def is_missing(error: S3Error) -> bool:
    return error.code in MISSING_CODES


class SiteBucket:
    """Read, write, list and delete the site's objects (keys without a leading slash)."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.requests = 0
        """S3 requests made (approximate under threads; for the bench's load-independent figures)."""
        self.keys_listed = 0

    def put(self, key: str, data: bytes, content_type: str, cache_control: str | None = None) -> str:
        self.requests += 1
        headers: dict[str, str | list[str] | tuple[str]] | None = (
            {"Cache-Control": cache_control} if cache_control else None
        )
        result = self.client.put_object(
            self.bucket, key, io.BytesIO(data), len(data), content_type=content_type, metadata=headers
        )
        return str(result.etag)

    def get(self, key: str) -> bytes | None:
        self.requests += 1
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as e:
            if is_missing(e):
                return None
            raise
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    def open(self, key: str, offset: int = 0, length: int = 0) -> Any:
        """A streaming response; the caller closes it. Raises S3Error if missing."""
        return self.client.get_object(self.bucket, key, offset=offset, length=length)

    def stat(self, key: str) -> ObjectInfo | None:
        self.requests += 1
        try:
            info = self.client.stat_object(self.bucket, key)
        except S3Error as e:
            if is_missing(e):
                return None
            raise
        return ObjectInfo(
            key=key,
            etag=str(info.etag or ""),
            size=int(info.size or 0),
            content_type=str(info.content_type or "application/octet-stream"),
            last_modified=info.last_modified,
        )

    def delete(self, key: str) -> None:
        self.requests += 1
        self.client.remove_object(self.bucket, key)

    def delete_many(self, keys: list[str]) -> None:
        if not keys:
            return
        self.requests += 1
        errors = list(self.client.remove_objects(self.bucket, [DeleteObject(k) for k in keys]))
        if errors:
            raise RuntimeError(f"could not delete {len(errors)} objects, first: {errors[0]}")

    def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key order (S3 lists lexicographically), fetched lazily."""
        self.requests += 1
        for n, obj in enumerate(self.client.list_objects(self.bucket, prefix=prefix, recursive=True), 1):
            self.keys_listed += 1
            if n % 1000 == 0:
                self.requests += 1  # the next page
            yield ObjectInfo(
                key=str(obj.object_name),
                etag=str(obj.etag or ""),
                size=int(obj.size or 0),
                content_type="",
                last_modified=obj.last_modified,
            )

    def first_keys(self, prefix: str, limit: int) -> list[str]:
        """The first ``limit`` keys under ``prefix``: one list request when ``limit`` <= 1000."""
        return [o.key for o in islice(self.iter_objects(prefix), limit)]

    def child_prefixes(self, prefix: str) -> list[str]:
        """The "folders" directly under ``prefix``."""
        self.requests += 1
        found = [
            str(o.object_name)
            for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=False)
            if o.is_dir
        ]
        self.keys_listed += len(found)
        return found
