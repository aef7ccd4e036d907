"""PostgreSQL: passwords only (SCRAM), an owner role that migrates, runtime roles with DML only.

The roles and the database are made by the stack's setup functions (``deploy/local/storage_users.py``)
under this test's own names; the superuser (``PGPASSWORD``, ``loa.testing.admin``) only sets up and
cleans up.
"""

from __future__ import annotations

import asyncio
import importlib
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import psycopg
import pytest
from psycopg import errors, sql

from deploy.local.storage_users import (
    MIGRATIONS as STORES,
)
from deploy.local.storage_users import (
    READS_ACROSS,
    ensure_database,
    ensure_role,
    grant_read_across,
    grant_runtime,
)
from loa import db
from loa.access.principal import ALL_UNITS, Grant, Principal, Role
from loa.access.tokens import TokenStore
from services.tracker.db import MIGRATIONS
from tests.conftest import Stack

pytestmark = pytest.mark.integration

TITLE = unicodedata.normalize("NFC", "Đoàn công tác của Bộ Ngoại giao thăm Hà Giang")


@dataclass(frozen=True)
class Store:
    database: str
    owner: str
    runtime: str
    other: str
    """Another store's runtime role: no right here unless granted."""
    url: Callable[..., str]
    """``url(role, database)``: a libpq URL with that role's password."""


@pytest.fixture
def store(stack: Stack, unique: Callable[[str], str]) -> Iterator[Store]:
    """A store's database owned by its own owner role, and a runtime role, as the setup makes them."""
    admin_url = stack.pg_admin_url
    name = unique("loa_sec").replace("-", "_")
    # _rt: the store's runtime role; _other: another store's (the ingest reading the job store)
    owner, runtime, other, passwords = f"{name}_owner", f"{name}_rt", f"{name}_other", {}
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for role in (owner, runtime, other):
            passwords[role] = secrets.token_urlsafe(24)
            ensure_role(admin, role, passwords[role])
        ensure_database(admin, name, owner)
    address = urlsplit(admin_url).netloc.rsplit("@", 1)[-1]

    def url(role: str, database: str = name) -> str:
        return f"postgresql://{role}:{quote(passwords[role], safe='')}@{address}/{database}"

    with psycopg.connect(url(owner), autocommit=True) as conn:
        grant_runtime(conn, name, owner, runtime)
    yield Store(name, owner, runtime, other, url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        for role in (other, runtime, owner):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _migrations(where: str) -> db.Migrations:
    """``module:attribute`` of ``storage_users.MIGRATIONS`` → the ``Migrations`` it names."""
    module, attribute = where.split(":")
    migrations: db.Migrations = getattr(importlib.import_module(module), attribute)
    return migrations


def migrate_as(url: str, migrations: db.Migrations = MIGRATIONS) -> None:
    async def run() -> None:
        engine = db.make_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
        try:
            await db.migrate(engine, migrations)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_a_connection_without_password_or_with_a_wrong_one_is_refused(
    stack: Stack, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    address = urlsplit(stack.pg_admin_url).netloc.rsplit("@", 1)[-1]
    for role in ("loa", store.runtime):
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(f"postgresql://{role}@{address}/postgres", passfile="/dev/null")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(f"postgresql://{role}:wrong@{address}/postgres")


def test_passwords_are_stored_as_scram_and_no_rule_trusts(stack: Stack, store: Store) -> None:
    with psycopg.connect(stack.pg_admin_url, autocommit=True) as admin:
        assert admin.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)
        stored = admin.execute(
            "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('loa', %s, %s)",
            (store.owner, store.runtime),
        ).fetchall()
        assert len(stored) == 3 and all(p.startswith("SCRAM-SHA-256$") for _, p in stored)
        methods = {r[0] for r in admin.execute("SELECT auth_method FROM pg_hba_file_rules").fetchall()}
        assert methods == {"scram-sha-256"}


def test_the_owner_migrates_and_the_runtime_role_has_dml_only(store: Store) -> None:
    migrate_as(store.url(store.owner))
    with psycopg.connect(store.url(store.runtime), autocommit=True) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        assert role.fetchone() == (False, False, False)
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        assert "alembic_version" in tables
        for statement in (
            "CREATE TABLE forged (x int)",
            f"DROP TABLE {tables[0]}",
            "ALTER TABLE alembic_version ADD COLUMN forged int",
            "TRUNCATE alembic_version",
            "CREATE SCHEMA forged",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
    migrate_as(store.url(store.runtime))  # a service's start at the latest revision: nothing to change


def test_the_runtime_role_cannot_migrate(store: Store) -> None:
    with pytest.raises(
        PermissionError, match=f"needs a migration and '{store.runtime}' may not change"
    ) as refused:
        migrate_as(store.url(store.runtime))
    assert "permission denied for schema public" in str(refused.value.__cause__)


def test_a_table_the_owner_makes_later_is_usable_by_the_runtime_role(store: Store) -> None:
    migrate_as(store.url(store.owner))
    with psycopg.connect(store.url(store.owner), autocommit=True) as owner:
        owner.execute(
            "CREATE TABLE later (id bigserial PRIMARY KEY, title text NOT NULL)"
        )  # a later revision
    with psycopg.connect(store.url(store.runtime), autocommit=True) as conn:
        conn.execute("INSERT INTO later (title) VALUES (%s)", (TITLE,))
        conn.execute("UPDATE later SET title = title || %s", (" (cập nhật)",))
        assert conn.execute("SELECT title FROM later").fetchone() == (f"{TITLE} (cập nhật)",)
        conn.execute("DELETE FROM later")


def test_a_runtime_role_cannot_reach_another_store(
    stack: Stack, store: Store, unique: Callable[[str], str]
) -> None:
    other = unique("loa_other").replace("-", "_")
    with psycopg.connect(stack.pg_admin_url, autocommit=True) as admin:
        ensure_database(admin, other, store.owner)
    try:
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(store.url(store.runtime, other))
    finally:
        with psycopg.connect(stack.pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(other)))


@pytest.mark.parametrize("name", sorted(STORES))
def test_each_store_migrates_as_the_owner_and_its_service_starts_on_dml_rights(
    store: Store, name: str
) -> None:
    every = [_migrations(where) for where in STORES[name]]
    for migrations in every:
        migrate_as(store.url(store.owner), migrations)
    with psycopg.connect(store.url(store.owner), autocommit=True) as owner:
        grant_runtime(owner, store.database, store.owner, store.runtime)  # the setup grants after migrating
    for migrations in every:
        migrate_as(store.url(store.runtime), migrations)  # the service's own start: nothing to change
    with psycopg.connect(store.url(store.runtime), autocommit=True) as conn:
        rights = conn.execute(
            "SELECT tablename,"
            " has_table_privilege(current_user, tablename, 'SELECT, INSERT, UPDATE, DELETE'),"
            " has_table_privilege(current_user, tablename, 'TRUNCATE, REFERENCES, TRIGGER')"
            " FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert {table for table, _, _ in rights} >= {t for m in every for t in m.metadata.tables}
    assert all(dml and not more for _, dml, more in rights), rights


def test_the_ingest_reads_account_names_in_the_job_store_never_credentials(store: Store) -> None:
    migrate_as(store.url(store.owner), _migrations(*STORES["publisher"]))
    with psycopg.connect(store.url(store.owner), autocommit=True) as owner:
        owner.execute(
            "INSERT INTO accounts (channel, name, credentials, options, version, updated_at)"
            " VALUES ('zalo', 'bo-ngoai-giao', 'gAAAA-token', '{}', 1, now())"
        )
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(store.url(store.other))  # before the grant: not even a connection
    with psycopg.connect(store.url(store.owner), autocommit=True) as owner:
        grant_read_across(owner, store.database, store.other, "accounts", ("channel", "name"))
    with psycopg.connect(store.url(store.other), autocommit=True) as reader:
        names = reader.execute("SELECT channel, name FROM accounts").fetchall()
        assert names == [("zalo", "bo-ngoai-giao")]
        for statement in (
            "SELECT credentials FROM accounts",
            "SELECT * FROM accounts",
            "DELETE FROM accounts",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                reader.execute(statement)


def test_the_website_checks_a_token_in_the_trackers_table_and_reads_nothing_else(store: Store) -> None:
    """The page views' token check (``views_api``) with the publishers' role on the tracker's store:
    ``TokenStore.find`` works on the columns granted; the issuer, the ids and any write are refused."""
    for where in STORES["tracker"]:
        migrate_as(store.url(store.owner), _migrations(where))
    owner_url = store.url(store.owner).replace("postgresql://", "postgresql+asyncpg://")
    reader_url = store.url(store.other).replace("postgresql://", "postgresql+asyncpg://")
    grant = Grant(Role.VIEWER, ALL_UNITS)

    async def issue() -> str:
        tokens = TokenStore.at(owner_url)
        try:
            return (await tokens.issue("listener", frozenset({grant}), "cli:Đặng Văn Lâm@may-chu"))[1]
        finally:
            await tokens.close()

    async def find(token: str) -> Principal | None:
        tokens = TokenStore.at(reader_url)
        try:
            return await tokens.find(token)
        finally:
            await tokens.close()

    token = asyncio.run(issue())
    store_name, table, columns = READS_ACROSS["publisher"]
    assert (store_name, table) == ("tracker", "service_tokens")
    with psycopg.connect(store.url(store.owner), autocommit=True) as owner:
        grant_read_across(owner, store.database, store.other, table, columns)
    found = asyncio.run(find(token))
    assert found is not None and (found.name, found.grants) == ("listener", frozenset({grant}))
    assert asyncio.run(find(token + "x")) is None
    with psycopg.connect(store.url(store.other), autocommit=True) as reader:
        for statement in (
            "SELECT issued_by FROM service_tokens",
            "SELECT * FROM service_tokens",
            "UPDATE service_tokens SET revoked_at = now()",
            "DELETE FROM service_tokens",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                reader.execute(statement)
