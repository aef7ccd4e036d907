"""Least privilege in the stores: which MinIO user and which PostgreSQL role each service runs as,
and what each may do. The one table the stack's setup (``deploy/local/storage_users.py``), the
process supervisor of ``make run`` and docs/security.md read.

MinIO: one user per service (``loa-<service>``), its policy generated here from the configured
bucket names. Actions are S3's, as MinIO's policy language names them
(https://min.io/docs/minio/linux/administration/identity-access-management/policy-based-access-control.html);
which call needs which action is the S3 API reference's "Permissions" section of each operation
(https://docs.aws.amazon.com/AmazonS3/latest/API/): ``HeadBucket`` (``bucket_exists``, the
readiness probe) needs ``s3:ListBucket``; ``HeadObject`` (``stat_object``) ``s3:GetObject``;
``CopyObject`` ``s3:GetObject`` on the source and ``s3:PutObject`` on the target; a multipart
upload ``s3:PutObject`` and, to abort one, ``s3:AbortMultipartUpload``. The minio SDK asks a
bucket's region once (``GetBucketLocation``), so every bucket a service touches grants it.

PostgreSQL: one owner role (``loa_owner``) owns each store's database and runs its migrations;
one runtime role per store with DML only (no CREATE, no superuser), see ``RUNTIME_ROLES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Bucket(StrEnum):
    MEDIA = "media"
    """Private: content-addressed ``sha256/<hex>`` originals, ``renditions/<hex>/<profile>``; the
    website's ``page-views/<page>/<replica>`` counts."""
    WEBSITE = "website"
    """Public-read: the website's pages, records and published media."""
    ARCHIVE = "archive"
    """Private, object lock on: the archive of record (``loa.archive.store``)."""


READ = ("s3:GetObject",)
WRITE = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
BUCKET_READ = ("s3:GetBucketLocation", "s3:ListBucket")


@dataclass(frozen=True)
class ObjectGrant:
    """``actions`` on the objects under ``prefix`` (``*``: all) of ``bucket``."""

    bucket: Bucket
    actions: tuple[str, ...]
    prefix: str = "*"


@dataclass(frozen=True)
class StoreUser:
    """A service's MinIO user: its bucket-level rights and its object grants."""

    service: str
    buckets: tuple[Bucket, ...]
    """Buckets it checks (``HeadBucket``) and locates: ``BUCKET_READ``."""
    objects: tuple[ObjectGrant, ...]
    located: tuple[Bucket, ...] = ()
    """Buckets it writes some objects of without checking or listing them: ``GetBucketLocation`` only."""
    bucket_actions: tuple[str, ...] = ()
    """Further bucket-level actions on its ``buckets`` (the archiver asks the object lock configuration)."""

    @property
    def access_key(self) -> str:
        return f"loa-{self.service}"

    @property
    def secret_setting(self) -> str:
        """The key in ``.env.local`` (or the environment) holding this user's secret key."""
        return f"LOA_S3_{self.service.upper()}_SECRET_KEY"


def _publisher(channel: str) -> StoreUser:
    """A channel publisher reads media and caches its renditions (``MediaStore.rendition_sync``).
    What it sends reaches the archive through Kafka (``loa.payload.v1``): no grant there."""
    return StoreUser(
        channel,
        (Bucket.MEDIA,),
        (
            ObjectGrant(Bucket.MEDIA, READ),
            ObjectGrant(Bucket.MEDIA, ("s3:PutObject",), "renditions/*"),
        ),
    )


STORE_USERS: tuple[StoreUser, ...] = (
    # Stores uploads (staging key, then its sha256 key), reads them to check them, deletes the
    # staging copy and a refused upload (a decompression bomb).
    StoreUser("ingest", (Bucket.MEDIA,), (ObjectGrant(Bucket.MEDIA, WRITE),)),
    *(_publisher(channel) for channel in ("facebook", "youtube", "x", "webhook", "email")),
    # TikTok streams the video it posts and fits no image: it reads media, and writes nothing.
    StoreUser("tiktok", (Bucket.MEDIA,), (ObjectGrant(Bucket.MEDIA, READ),)),
    # Zalo fetches an article's images by URL: when it sends the article it copies them into the
    # public bucket (``MediaStore.publish_public``: its own mark, a HEAD, a server-side copy).
    StoreUser(
        "zalo",
        (Bucket.MEDIA,),
        (
            *_publisher("zalo").objects,
            ObjectGrant(Bucket.WEBSITE, ("s3:GetObject", "s3:PutObject"), "media/*"),
            ObjectGrant(Bucket.WEBSITE, ("s3:PutObject",), "_index/media-users/*/zalo:*"),
        ),
        located=(Bucket.WEBSITE,),
    ),
    # The website publisher: a publisher, and the owner of the public website bucket (pages,
    # records, media copied there server-side and removed when no live article uses them). Its
    # server keeps the page views in the private bucket (services/website/views.py): each replica
    # writes its own objects and reads the others' (never deletes).
    StoreUser(
        "website",
        (Bucket.MEDIA, Bucket.WEBSITE),
        (
            *_publisher("website").objects,
            ObjectGrant(Bucket.MEDIA, ("s3:GetObject", "s3:PutObject"), "page-views/*"),
            ObjectGrant(Bucket.WEBSITE, WRITE),
        ),
    ),
    # The archiver appends records (a GET of a content's last record, a PUT with its
    # retention: PutObjectRetention), lists a content's records and stores what the publishers
    # sent (``payloads/*``, read off ``loa.payload.v1``); it deletes nothing.
    StoreUser(
        "archive",
        (Bucket.ARCHIVE,),
        (ObjectGrant(Bucket.ARCHIVE, ("s3:GetObject", "s3:PutObject", "s3:PutObjectRetention")),),
        bucket_actions=("s3:GetBucketObjectLockConfiguration",),
    ),
    # The tracker reads the archive to export it (GET /api/v1/archive/export): list and read, no write.
    StoreUser("tracker", (Bucket.ARCHIVE,), (ObjectGrant(Bucket.ARCHIVE, READ),)),
)
"""Every service that touches MinIO. The listener and the sandbox do not: they get no user."""


def store_user(service: str) -> StoreUser | None:
    return next((u for u in STORE_USERS if u.service == service), None)


def minio_policy(
    user: StoreUser, media_bucket: str, website_bucket: str, archive_bucket: str = "loa-archive"
) -> dict[str, Any]:
    """``user``'s IAM policy document for the configured bucket names."""
    names = {Bucket.MEDIA: media_bucket, Bucket.WEBSITE: website_bucket, Bucket.ARCHIVE: archive_bucket}
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": [*BUCKET_READ, *user.bucket_actions],
            "Resource": [f"arn:aws:s3:::{names[b]}" for b in user.buckets],
        }
    ]
    if user.located:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{names[b]}" for b in user.located],
            }
        )
    statements += [
        {
            "Effect": "Allow",
            "Action": list(grant.actions),
            "Resource": [f"arn:aws:s3:::{names[grant.bucket]}/{grant.prefix}"],
        }
        for grant in user.objects
    ]
    return {"Version": "2012-10-17", "Statement": statements}


# ---- SeaweedFS (the second S3 store, docs/storage.md) ---------------------------------------

SEAWEEDFS_ACTIONS = {
    "s3:GetObject": "Read",
    "s3:PutObject": "Write",
    "s3:DeleteObject": "Write",
    "s3:AbortMultipartUpload": "Write",
    "s3:PutObjectRetention": "Write",
}
"""S3 actions as SeaweedFS's identities name them. SeaweedFS has coarser actions (Read, Write, List,
Tagging, Admin; weed/s3api/s3_constants/s3_config.go ``AllowedActions``): ``Write`` is put, delete
and abort together, so a grant of ``s3:PutObject`` alone becomes ``Write`` and also lets its holder
delete under that prefix. Prefixes are kept (``Identity.CanDo`` matches ``Write:bucket/prefix*``)."""


def seaweedfs_identity(
    user: StoreUser, secret: str, media_bucket: str, website_bucket: str, archive_bucket: str = "loa-archive"
) -> dict[str, Any]:
    """``user``'s entry of SeaweedFS's ``-s3.config`` identities file, from the same grants as
    ``minio_policy`` (https://github.com/seaweedfs/seaweedfs/wiki/Amazon-S3-API#s3-authentication)."""
    names = {Bucket.MEDIA: media_bucket, Bucket.WEBSITE: website_bucket, Bucket.ARCHIVE: archive_bucket}
    actions = [f"List:{names[b]}" for b in user.buckets]
    for grant in user.objects:
        for action in dict.fromkeys(SEAWEEDFS_ACTIONS[a] for a in grant.actions):
            actions.append(f"{action}:{names[grant.bucket]}/{grant.prefix}")
    return {
        "name": user.access_key,
        "credentials": [{"accessKey": user.access_key, "secretKey": secret}],
        "actions": list(dict.fromkeys(actions)),
    }


# ---- PostgreSQL -------------------------------------------------------------------------------

OWNER_ROLE = "loa_owner"
OWNER_PASSWORD_SETTING = "LOA_PG_OWNER_PASSWORD"  # noqa: S105 - the name of a setting
SUPERUSER = "loa"
SUPERUSER_PASSWORD_SETTING = "LOA_PG_PASSWORD"  # noqa: S105 - the name of a setting
RUNTIME_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
"""On every table of its database; ``USAGE, SELECT`` on its sequences. Nothing else."""


@dataclass(frozen=True)
class RuntimeRole:
    """A store's database and the role its service runs as."""

    store: str

    @property
    def name(self) -> str:
        return f"loa_{self.store}"

    @property
    def database(self) -> str:
        return f"loa_{self.store}"

    @property
    def password_setting(self) -> str:
        return f"LOA_PG_{self.store.upper()}_PASSWORD"


RUNTIME_ROLES: tuple[RuntimeRole, ...] = (
    RuntimeRole("ingest"),
    RuntimeRole("tracker"),
    RuntimeRole("publisher"),
    RuntimeRole("listener"),
)
"""The ingest's outbox and versions, the tracker's view, the publishers' job store (one database
shared by every channel, as ``LOA_PUBLISHER_DATABASE_URL`` is), the listener's followed posts."""


def minio_table() -> str:
    """The users and their rights as the Markdown table docs/security.md shows (a test compares)."""
    rows = [
        "| MinIO user | ListBucket (`HeadBucket`), GetBucketLocation on | Objects (actions without `s3:`) |",
        "|---|---|---|",
    ]
    for user in STORE_USERS:
        buckets = ", ".join(f"`{b}`" for b in user.buckets)
        if user.bucket_actions:
            buckets += f" (and {', '.join(a.removeprefix('s3:') for a in user.bucket_actions)})"
        if user.located:
            buckets += f" (GetBucketLocation only: {', '.join(f'`{b}`' for b in user.located)})"
        objects = "; ".join(
            f"`{g.bucket}/{g.prefix}`: {', '.join(a.removeprefix('s3:') for a in g.actions)}"
            for g in user.objects
        )
        rows.append(f"| `{user.access_key}` | {buckets} | {objects} |")
    return "\n".join(rows)


def secret_settings() -> list[str]:
    """Every store secret ``.env.local`` holds (``lib.sh ensure_store_secrets`` makes them once)."""
    return [
        SUPERUSER_PASSWORD_SETTING,
        OWNER_PASSWORD_SETTING,
        *(r.password_setting for r in RUNTIME_ROLES),
        *(u.secret_setting for u in STORE_USERS),
    ]


if __name__ == "__main__":  # for the shell scripts: one name a line (standard library only)
    import sys

    sys.stdout.write("".join(f"{name}\n" for name in secret_settings()))
