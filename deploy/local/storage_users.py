"""The stores' users, made idempotently with the admin credentials (``loa.access.storage``'s table).

    python deploy/local/storage_users.py minio      # a user and a policy per service, the buckets
    python deploy/local/storage_users.py postgres   # owner + runtime roles, a database per store,
                                                    # grants, then every store's migrations as owner
    python deploy/local/storage_users.py migrate    # only the migrations (a release's upgrade step)
    python deploy/local/storage_users.py all        # minio, then postgres (docker-compose.yml)
    python deploy/local/storage_users.py seaweedfs-identities FILE  # SeaweedFS's -s3.config
    python deploy/local/storage_users.py seaweedfs  # the buckets, on SeaweedFS (LOA_SEAWEEDFS_PORT)

Run by ``minio.sh up`` / ``postgres.sh up`` (and the compose file's ``storage-setup`` container).
Secrets come from the environment, else ``.env.local`` (``lib.sh ensure_secret`` made them); none is
printed. Only this setup and the tests' harness use MinIO's root user and PostgreSQL's superuser.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "shared"), str(REPO)]

from dotenv import dotenv_values  # noqa: E402 - after the path above
from minio import Minio  # noqa: E402
from minio.credentials.providers import StaticProvider  # noqa: E402
from minio.minioadmin import MinioAdmin  # noqa: E402

from loa.access.storage import (  # noqa: E402
    OWNER_PASSWORD_SETTING,
    OWNER_ROLE,
    RUNTIME_PRIVILEGES,
    RUNTIME_ROLES,
    STORE_USERS,
    SUPERUSER,
    SUPERUSER_PASSWORD_SETTING,
    RuntimeRole,
    StoreUser,
    minio_policy,
    seaweedfs_identity,
)
from loa.media.store import public_read_policy  # noqa: E402

MIGRATIONS = {
    "ingest": ("services.ingest.db:MIGRATIONS",),
    "tracker": ("services.tracker.db:MIGRATIONS", "loa.access.tokens:MIGRATIONS"),
    "publisher": ("loa.publisher.store.db:MIGRATIONS",),
    "listener": ("services.listener.store:MIGRATIONS",),
}
"""Each store's Alembic revisions (``loa.db.Migrations``), by ``RuntimeRole.store``. The tracker's
database also holds the service-account token table (``loa.access.tokens``, its own revisions):
``loa tokens issue`` writes it there (``LOA_DATABASE_URL``, the tracker's, for the audit log) and
the website reads it (below)."""
TOKEN_COLUMNS = ("name", "grants", "token_sha256", "expires_at", "revoked_at")
"""What ``TokenStore.find`` reads to check a token: its digest, its account's name and grants, its end."""
READS_ACROSS = {
    "ingest": ("publisher", "accounts", ("channel", "name")),
    "listener": (
        "publisher",
        "accounts",
        ("channel", "name", "credentials", "options", "version", "parked_version", "updated_at"),
    ),
    "publisher": ("tracker", "service_tokens", TOKEN_COLUMNS),
}
"""A role's read of another store: the ingest checks a target's account exists (``AccountDirectory``)
by its channel and name, the columns only, never the credentials; the listener reads an account
whole (sealed credentials it opens with ``LOA_CREDENTIALS_KEY``) to read its posts' figures, and
writes nothing there. The website checks the listener's page-view token (``views_api``) in the
tracker's token table with the publishers' role (one role for every channel's job store, so every
publisher may read these columns: digests of 256-bit tokens and their grants, never a token), and
writes nothing there."""


def setting(key: str, default: str | None = None) -> str:
    """``key`` from the environment, else ``.env.local``; a missing secret stops with its name."""
    value = os.environ.get(key) or dotenv_values(os.environ.get("LOA_ENV_FILE", REPO / ".env.local")).get(key)
    if value is None and default is None:
        sys.exit(f"storage_users: {key} is not set (in the environment or .env.local)")
    return value or str(default)


# ---- MinIO ------------------------------------------------------------------------------------


def minio_endpoint() -> str:
    return setting("LOA_S3_ENDPOINT", f"127.0.0.1:{setting('LOA_MINIO_PORT', '9000')}")


def ensure_minio_users(
    endpoint: str,
    root_user: str,
    root_password: str,
    media: str,
    website: str,
    secrets: dict[str, str],
    archive: str = "loa-archive",
) -> None:
    """Buckets, then per service a policy ``loa-<service>`` and a user holding only it (PUT: idempotent)."""
    client = Minio(endpoint, root_user, root_password, secure=False)
    for bucket in (media, website):
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
    client.set_bucket_policy(website, public_read_policy(website))
    ensure_archive_bucket(client, archive)
    admin = minio_admin(endpoint, root_user, root_password)
    for user in STORE_USERS:
        ensure_minio_user(
            admin, user.access_key, secrets[user.access_key], minio_policy(user, media, website, archive)
        )


def ensure_archive_bucket(client: Minio, bucket: str) -> None:
    """The archive bucket with object lock (versioning with it) and, as its default retention, the
    ``default=`` period of ``LOA_ARCHIVE_RETENTION`` (what the publishers' payloads get; records get
    their kind's own, ``loa.archive.store``). A bucket made without lock cannot get it later."""
    from loa.archive.retention import Retention
    from loa.archive.store import ArchiveStore

    retention = Retention.parse(
        setting("LOA_ARCHIVE_RETENTION", "press_release=10y,correction=10y,default=5y")
    )
    compliance = setting("LOA_ARCHIVE_LOCK_MODE", "GOVERNANCE") == "COMPLIANCE"
    store = ArchiveStore(client, bucket, "COMPLIANCE" if compliance else "GOVERNANCE")
    store.ensure_bucket()
    if store.lock_supported():
        store.set_default_retention(retention.default)
    else:
        print(
            f"[minio] {bucket}: no object lock (made earlier without); the hash chain alone shows tampering"
        )


def minio_admin(endpoint: str, root_user: str, root_password: str) -> MinioAdmin:
    return MinioAdmin(endpoint=endpoint, credentials=StaticProvider(root_user, root_password), secure=False)


def ensure_minio_user(admin: MinioAdmin, name: str, secret: str, policy: dict[str, Any]) -> None:
    """User ``name`` with ``secret``, holding only ``policy`` (named after it). Each call is a PUT
    of MinIO's admin API (add-canned-policy, add-user, set-user-or-group-policy): idempotent."""
    admin.policy_add(name, policy=policy)
    admin.user_add(name, secret)
    admin.policy_set(name, user=name)


def minio_main() -> None:
    secrets = {u.access_key: setting(u.secret_setting) for u in STORE_USERS}
    ensure_minio_users(
        minio_endpoint(),
        setting("LOA_S3_ACCESS_KEY"),
        setting("LOA_S3_SECRET_KEY"),
        setting("LOA_S3_MEDIA_BUCKET", "loa-media"),
        setting("LOA_S3_WEBSITE_BUCKET", "loa-website"),
        secrets,
        setting("LOA_S3_ARCHIVE_BUCKET", "loa-archive"),
    )
    print(
        f"[minio] users {', '.join(u.access_key for u in STORE_USERS)}: one policy each (root only for setup)"
    )


def minio_credentials(user: StoreUser) -> dict[str, str]:
    """The environment a service runs with: its own user, never root."""
    return {"LOA_S3_ACCESS_KEY": user.access_key, "LOA_S3_SECRET_KEY": setting(user.secret_setting)}


# ---- SeaweedFS (docs/storage.md) ----------------------------------------------------------------


def seaweedfs_endpoint() -> str:
    return f"127.0.0.1:{setting('LOA_SEAWEEDFS_PORT', '8333')}"


def write_seaweedfs_identities(path: Path) -> None:
    """SeaweedFS has no admin API for users: its identities are this file, read at start. The
    admin identity (``LOA_S3_ACCESS_KEY``, as MinIO's root) for setup and the tests' harness; one
    identity per service, from ``loa.access.storage``. Written 0600: it holds secret keys."""
    import json

    media = setting("LOA_S3_MEDIA_BUCKET", "loa-media")
    website = setting("LOA_S3_WEBSITE_BUCKET", "loa-website")
    admin = {
        "name": "loa-admin",
        "credentials": [
            {"accessKey": setting("LOA_S3_ACCESS_KEY"), "secretKey": setting("LOA_S3_SECRET_KEY")}
        ],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    archive = setting("LOA_S3_ARCHIVE_BUCKET", "loa-archive")
    users = [seaweedfs_identity(u, setting(u.secret_setting), media, website, archive) for u in STORE_USERS]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"identities": [admin, *users]}, out, indent=2)
    print(f"[seaweedfs] identities loa-admin, {', '.join(u.access_key for u in STORE_USERS)} in {path}")


def seaweedfs_main() -> None:
    """The buckets, as on MinIO (the website's public-read by a bucket policy)."""
    media = setting("LOA_S3_MEDIA_BUCKET", "loa-media")
    website = setting("LOA_S3_WEBSITE_BUCKET", "loa-website")
    client = Minio(
        seaweedfs_endpoint(), setting("LOA_S3_ACCESS_KEY"), setting("LOA_S3_SECRET_KEY"), secure=False
    )
    archive = setting("LOA_S3_ARCHIVE_BUCKET", "loa-archive")
    for bucket in (media, website, archive):  # SeaweedFS: the archive without object lock (its chain)
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
    client.set_bucket_policy(website, public_read_policy(website))
    print(f"[seaweedfs] buckets {media}, {website} (public-read), {archive}")


# ---- PostgreSQL -------------------------------------------------------------------------------


def pg_address() -> str:
    return f"{setting('LOA_PG_HOST', '127.0.0.1')}:{setting('LOA_PG_PORT', '5432')}"


def pg_url(role: str, password: str, database: str, driver: str = "postgresql") -> str:
    from urllib.parse import quote

    return f"{driver}://{role}:{quote(password, safe='')}@{pg_address()}/{database}"


def ensure_role(conn: Any, name: str, password: str) -> None:
    """A login role with ``password`` (SCRAM, ``password_encryption``) and no other attribute."""
    from psycopg import sql

    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL(
            "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS"
            " PASSWORD {}"
        ).format(sql.SQL(verb), sql.Identifier(name), sql.Literal(password))
    )


def ensure_database(admin: Any, database: str, owner: str) -> None:
    from psycopg import sql

    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(owner))
        )
    admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))


def grant_runtime(conn: Any, database: str, owner: str, runtime: str) -> None:
    """On ``database`` (``conn`` is connected to it): ``runtime`` may connect and use DML on what
    ``owner`` makes, now and later (default privileges), and create nothing."""
    from psycopg import sql

    ids = {"db": sql.Identifier(database), "owner": sql.Identifier(owner), "role": sql.Identifier(runtime)}
    dml = sql.SQL(RUNTIME_PRIVILEGES)
    for statement in (
        "GRANT CONNECT ON DATABASE {db} TO {role}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT {dml} ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT {dml} ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
        " GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ):
        conn.execute(sql.SQL(statement).format(dml=dml, **ids))


def grant_read_across(conn: Any, database: str, reader: str, table: str, columns: tuple[str, ...]) -> None:
    """``reader`` may connect to ``database`` and read ``columns`` of ``table`` (once it exists)."""
    from psycopg import sql

    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(reader))
    )
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(reader)))
    if conn.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone()[0] is not None:
        conn.execute(
            sql.SQL("GRANT SELECT ({}) ON {} TO {}").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.Identifier(table),
                sql.Identifier(reader),
            )
        )


async def migrate_store(role: RuntimeRole, owner_password: str) -> None:
    """Bring ``role``'s store to its latest revisions, connected as the owner."""
    from loa import db

    engine = db.make_engine(pg_url(OWNER_ROLE, owner_password, role.database, "postgresql+asyncpg"))
    try:
        for where in MIGRATIONS[role.store]:
            module, name = where.split(":")
            await db.migrate(engine, getattr(importlib.import_module(module), name))
    finally:
        await engine.dispose()


def postgres_main(*, setup: bool) -> None:
    import psycopg

    owner_password = setting(OWNER_PASSWORD_SETTING)
    if setup:  # only the setup needs the superuser: `migrate` (the chart's upgrade hook) has the owner alone
        superuser = pg_url(SUPERUSER, setting(SUPERUSER_PASSWORD_SETTING), "postgres")
        with psycopg.connect(superuser, autocommit=True) as admin:
            ensure_role(admin, OWNER_ROLE, owner_password)
            for role in RUNTIME_ROLES:
                ensure_role(admin, role.name, setting(role.password_setting))
                ensure_database(admin, role.database, OWNER_ROLE)
    for role in RUNTIME_ROLES:
        asyncio.run(migrate_store(role, owner_password))
    if setup:  # after the migrations: the grants cover the tables they made
        for role in RUNTIME_ROLES:
            with psycopg.connect(pg_url(OWNER_ROLE, owner_password, role.database), autocommit=True) as conn:
                grant_runtime(conn, role.database, OWNER_ROLE, role.name)
                for reader, (store, table, columns) in READS_ACROSS.items():
                    if store == role.store:
                        grant_read_across(conn, role.database, f"loa_{reader}", table, columns)
    print(
        f"[postgres] roles {OWNER_ROLE} (migrations) and {', '.join(r.name for r in RUNTIME_ROLES)} "
        "(DML only), each store migrated"
    )


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else ""
    if action in ("minio", "all"):
        minio_main()
    if action in ("postgres", "all", "migrate"):
        postgres_main(setup=action != "migrate")
    if action == "seaweedfs-identities" and len(argv) > 2:
        write_seaweedfs_identities(Path(argv[2]))
    if action == "seaweedfs":
        seaweedfs_main()
    if action not in ("minio", "postgres", "all", "migrate", "seaweedfs", "seaweedfs-identities"):
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
