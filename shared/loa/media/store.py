"""The media store: content-addressed keys (``sha256/<hex>``) in a private MinIO bucket.

Every transfer streams in parts: nothing holds a whole file in memory. The minio SDK is
blocking, so async callers go through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any, Protocol

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Part
from minio.error import S3Error

from loa.media.probe import MediaInfo, probe
from loa.media.renditions import PROFILES, Profile, RenditionError, make_rendition
from loa.settings import LoaSettings

PART_SIZE = 16 * 1024 * 1024
READ_CHUNK = 1024 * 1024
SPOOL_MAX = 8 * 1024 * 1024
"""A rendition's source is spooled to disk above this size (Pillow needs a seekable file)."""


CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 30.0
"""Per socket read (a large part being stored), not per transfer."""
RETRIES = 2
"""minio's default (5 retries, 0.2 s backoff, 5-minute timeouts; minio/api.py ``Minio.__init__``)
kept a request failing for 6 s while MinIO was down; 2 fail in well under a second."""


def bounded_http_client(secure: bool) -> urllib3.PoolManager:
    """minio's own pool settings with short connect timeouts and few retries."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
        maxsize=10,
        cert_reqs="CERT_REQUIRED" if secure else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=RETRIES, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NotFound"})
"""S3 error codes of an object that is not there (an answer, unlike an outage, which raises no
S3Error): https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList"""


def missing_object(error: BaseException) -> str | None:
    """The key of the object whose absence caused ``error`` (anywhere in its chain), else None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, S3Error) and current.code in NOT_FOUND_CODES:
            return current.object_name or "(unknown key)"
        current = current.__cause__ or current.__context__
    return None


class IntegrityError(ValueError):
    """The bytes do not match the declared sha256 or size."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Rendition:
    """A channel profile's version of an image, cached in the media bucket."""

    key: str
    profile: str
    size: int
    content_type: str
    width: int
    height: int
    url: str
    """A presigned GET URL with a short expiry."""


class HasKey(Protocol):
    @property
    def key(self) -> str: ...


class _HashingReader(io.RawIOBase):
    """Wraps a stream, hashing and counting what is read through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data


PARALLEL_PARTS = 3


def _read_part(reader: _HashingReader, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end)."""
    data = reader.read(size)
    if len(data) == size or not data:
        return data
    chunks = [data]
    missing = size - len(data)
    while missing:
        more = reader.read(missing)
        if not more:
            break
        chunks.append(more)
        missing -= len(more)
    return b"".join(chunks)


def _check_digest(reader: _HashingReader, sha256: str) -> None:
    actual = reader.hash.hexdigest()
    if actual != sha256:
        raise IntegrityError(f"the bytes hash to {actual}, not the declared {sha256}")


def public_read_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["*"]},
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


def public_media_key(sha256: str) -> str:
    """Where a media object is published in the website bucket (pages and platforms link to it)."""
    return f"media/{sha256}"


def public_key(media: HasKey) -> str:
    """Where a stored media object (``sha256/<hex>``) is, or will be, in the public website bucket."""
    return public_media_key(public_sha256(media))


PUBLIC_MEDIA_USERS = "_index/media-users/"
"""``<sha256>/<user>``: an empty object per live publication that shows a public media copy."""


def public_media_user_key(sha256: str, used_by: str) -> str:
    return f"{PUBLIC_MEDIA_USERS}{sha256}/{used_by}"


def public_media_user(channel: str, content_id: str) -> str:
    """How a channel's publication of a content marks its use of a public copy (``website:<id>``)."""
    return f"{channel}:{content_id}"


def public_sha256(media: HasKey) -> str:
    """The name of a stored media object's public copy and of its marks (``sha256/<hex>`` → hex)."""
    return media.key.removeprefix("sha256/")


class MediaStore:
    """Private media bucket (content-addressed) and the public website bucket."""

    def __init__(self, settings: LoaSettings, client: Minio | None = None) -> None:
        self.settings = settings
        self.bucket = settings.s3_media_bucket
        self.website_bucket = settings.s3_website_bucket
        self.client = client or Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            http_client=bounded_http_client(settings.s3_secure),
        )

    def ensure_buckets(self, *buckets: str) -> None:
        """Create ``buckets`` (default: both) if missing: media private, website public-read.

        A service checks only the buckets it owns: its user may see no other (``loa.access.storage``).
        Existing buckets are left as they are, so a service's user needs no right to create a bucket
        or set its policy: the stack's setup (``deploy/local/storage_users.py``) made them.
        """
        for bucket in buckets or (self.bucket, self.website_bucket):
            if self.client.bucket_exists(bucket):
                continue
            try:
                self.client.make_bucket(bucket)
            except S3Error as e:  # another replica made it first
                if e.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
            if bucket == self.website_bucket:
                self.client.set_bucket_policy(bucket, public_read_policy(bucket))

    def put_stream(
        self, stream: IO[bytes], content_type: str, size: int = -1, part_size: int = PART_SIZE
    ) -> StoredObject:
        """Stream into a staging key while hashing, then copy to ``sha256/<hex>``.

        An error while reading ``stream`` aborts the upload: nothing stays behind.
        """
        reader = _HashingReader(stream)
        staging = f"staging/{uuid.uuid4().hex}"
        self.client.put_object(
            self.bucket,
            staging,
            reader,  # type: ignore[arg-type]  # a readable stream is all minio needs
            length=size,
            part_size=part_size,
            content_type=content_type,
        )
        digest = reader.hash.hexdigest()
        key = f"sha256/{digest}"
        try:
            if not self.exists(key):
                self.client.copy_object(self.bucket, key, CopySource(self.bucket, staging))
        finally:
            self.client.remove_object(self.bucket, staging)
        return StoredObject(key, digest, reader.size, content_type)

    def put_stream_expecting(
        self, stream: IO[bytes], content_type: str, sha256: str, part_size: int = PART_SIZE
    ) -> StoredObject:
        """Stream straight to ``sha256/<sha256>`` when the hash is declared up front (no staging copy).

        The multipart upload completes only if the bytes hash to ``sha256``; otherwise it is
        aborted, nothing becomes visible and ``IntegrityError`` is raised. At most
        ``PARALLEL_PARTS`` parts are in flight. If the object exists already, the bytes are only
        hashed and checked. (Uses minio 7.2's multipart primitives; the version is pinned.)
        """
        key = f"sha256/{sha256}"
        reader = _HashingReader(stream)
        if self.exists(key):
            while reader.read(READ_CHUNK):
                pass
            _check_digest(reader, sha256)
            return StoredObject(key, sha256, reader.size, content_type)
        first = _read_part(reader, part_size)
        if len(first) < part_size:  # one part: check, then a plain put
            _check_digest(reader, sha256)
            self.client.put_object(
                self.bucket, key, io.BytesIO(first), length=len(first), content_type=content_type
            )
            return StoredObject(key, sha256, reader.size, content_type)
        upload_id = self.client._create_multipart_upload(self.bucket, key, {"Content-Type": content_type})
        try:
            parts = self._upload_parts(key, upload_id, first, reader, part_size)
            _check_digest(reader, sha256)
            self.client._complete_multipart_upload(self.bucket, key, upload_id, parts)
        except BaseException:
            self.client._abort_multipart_upload(self.bucket, key, upload_id)
            raise
        return StoredObject(key, sha256, reader.size, content_type)

    def _upload_parts(
        self, key: str, upload_id: str, first: bytes, reader: _HashingReader, part_size: int
    ) -> list[Part]:
        pending: list[tuple[int, Future[str]]] = []
        parts: list[Part] = []
        with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
            data, number = first, 1
            while data:
                if len(pending) >= PARALLEL_PARTS:  # bound the memory: wait for the oldest part
                    done_number, done = pending.pop(0)
                    parts.append(Part(done_number, done.result()))
                upload = pool.submit(
                    self.client._upload_part, self.bucket, key, data, None, upload_id, number
                )
                pending.append((number, upload))
                if len(data) < part_size:
                    break
                data, number = _read_part(reader, part_size), number + 1
            parts.extend(Part(n, f.result()) for n, f in pending)
        return parts

    def stat(self, key: str) -> StoredObject | None:
        try:
            info = self.client.stat_object(self.bucket, key)
        except S3Error as e:
            if e.code in NOT_FOUND_CODES:
                return None
            raise
        return StoredObject(key, key.removeprefix("sha256/"), info.size or 0, info.content_type or "")

    def publish_public(self, media: HasKey, used_by: str) -> str:
        """Copy a media object into the public website bucket once (server-side); its key there.

        ``used_by`` (``website:<content id>``, ``zalo:<content id>``) is marked as a user of the copy
        first, so a ``release_public`` by another user that lists the users after this point keeps it.
        """
        sha256 = public_sha256(media)
        key = public_key(media)
        self.client.put_object(self.website_bucket, public_media_user_key(sha256, used_by), io.BytesIO(), 0)
        try:
            self.client.stat_object(self.website_bucket, key)
        except S3Error as e:
            if e.code not in NOT_FOUND_CODES:
                raise
            self.client.copy_object(self.website_bucket, key, CopySource(self.bucket, media.key))
        return key

    def release_public(self, sha256s: Iterable[str], used_by: str) -> None:
        """``used_by`` no longer shows these media: delete each public copy nobody else uses.

        A retracted article's photos must leave the public bucket, but one photo may be shown by
        several publications, hence a mark per (media, user). One window stays open: a publication
        made between the listing and the delete below loses its copy until it is written again.
        """
        for sha256 in sha256s:
            self.client.remove_object(self.website_bucket, public_media_user_key(sha256, used_by))
            users = self.client.list_objects(self.website_bucket, prefix=public_media_user_key(sha256, ""))
            if next(iter(users), None) is None:
                self.client.remove_object(self.website_bucket, public_media_key(sha256))

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def iter_bytes(self, key: str, offset: int = 0, chunk: int = READ_CHUNK) -> Iterator[bytes]:
        """Stream an object (from ``offset``) in chunks, never whole."""
        response = self.client.get_object(self.bucket, key, offset=offset)
        try:
            yield from response.stream(chunk)
        finally:
            response.close()
            response.release_conn()

    def open(self, key: str, offset: int = 0, length: int = 0) -> Any:
        """A file-like streaming response (``read(n)``); the caller closes it."""
        return self.client.get_object(self.bucket, key, offset=offset, length=length)

    def verify(self, key: str, sha256: str, size: int) -> None:
        """Raise ``IntegrityError`` unless the object exists with this size and sha256."""
        info = self.stat(key)
        if info is None:
            raise IntegrityError(f"media {key} does not exist")
        if info.size != size:
            raise IntegrityError(f"media {key} has {info.size} bytes, not the declared {size}")
        if key != f"sha256/{sha256}":
            raise IntegrityError(f"media key {key} does not match sha256 {sha256}")

    def presigned_get(self, key: str, expires: timedelta = timedelta(minutes=15)) -> str:
        return self.client.presigned_get_object(self.bucket, key, expires=expires)

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        """A ranged read of at most ``length`` bytes (small reads: probing, headers)."""
        if length <= 0:
            return b""
        response = self.client.get_object(self.bucket, key, offset=offset, length=length)
        try:
            data: bytes = response.read()
            return data
        finally:
            response.close()
            response.release_conn()

    def probe(self, key: str) -> MediaInfo:
        """Image width/height or MP4 duration and size, read by ranges (see ``loa.media.probe``)."""
        info = self.stat(key)
        if info is None:
            raise IntegrityError(f"media {key} does not exist")
        return probe(lambda offset, n: self.read_at(key, offset, n), info.size, info.content_type)

    def rendition_sync(self, media: HasKey | str, profile: Profile | str) -> Rendition:
        """A profile's rendition of an image, made once, cached as ``renditions/<sha256>/<profile>``."""
        spec = PROFILES[profile] if isinstance(profile, str) else profile
        source_key = media if isinstance(media, str) else media.key
        key = f"renditions/{source_key.removeprefix('sha256/')}/{spec.name}"
        try:
            cached = self.client.stat_object(self.bucket, key)
        except S3Error as e:
            if e.code not in NOT_FOUND_CODES:
                raise
        else:
            meta = {k.lower(): v for k, v in (cached.metadata or {}).items()}
            return Rendition(
                key,
                spec.name,
                cached.size or 0,
                cached.content_type or spec.content_type,
                int(meta.get("x-amz-meta-width", 0)),
                int(meta.get("x-amz-meta-height", 0)),
                self.presigned_get(key),
            )
        source = self.stat(source_key)
        if source is None:
            raise IntegrityError(f"media {source_key} does not exist")
        if not source.content_type.startswith("image/"):
            raise RenditionError(f"media {source_key} is {source.content_type}, not an image")
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX) as spool:
            for chunk in self.iter_bytes(source_key):
                spool.write(chunk)
            spool.seek(0)
            image = make_rendition(spool, spec)
        self.client.put_object(
            self.bucket,
            key,
            io.BytesIO(image.data),
            length=len(image.data),
            content_type=image.content_type,
            metadata={"width": str(image.width), "height": str(image.height), "source": source_key},
        )
        return Rendition(
            key,
            spec.name,
            len(image.data),
            image.content_type,
            image.width,
            image.height,
            self.presigned_get(key),
        )

    async def rendition(self, media: HasKey | str, profile: Profile | str) -> Rendition:
        """``await store.rendition(media_ref, "x_image")``: see ``rendition_sync``."""
        return await asyncio.to_thread(self.rendition_sync, media, profile)

    async def aprobe(self, key: str) -> MediaInfo:
        return await asyncio.to_thread(self.probe, key)

    def remove(self, key: str) -> None:
        """Delete a stored media object (one the door refused after storing it)."""
        self.client.remove_object(self.bucket, key)

    async def averify(self, key: str, sha256: str, size: int) -> None:
        await asyncio.to_thread(self.verify, key, sha256, size)

    async def aput_stream(self, stream: IO[bytes], content_type: str, size: int = -1) -> StoredObject:
        return await asyncio.to_thread(self.put_stream, stream, content_type, size)

    async def astat(self, key: str) -> StoredObject | None:
        return await asyncio.to_thread(self.stat, key)
