"""A cluster an older release made (``trust``, a superuser without a password) comes up with
passwords only: running (``postgres.sh up`` on a live server) and after a restart."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from loa.testing.private_stack import PrivateStack

pytestmark = pytest.mark.integration

TRUST = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"


def connect_without_password(ps: PrivateStack, monkeypatch: pytest.MonkeyPatch) -> psycopg.Connection:
    with monkeypatch.context() as m:
        m.delenv("PGPASSWORD", raising=False)
        return psycopg.connect(ps.pg_admin_url, passfile="/dev/null", autocommit=True)


def make_it_an_older_release(ps: PrivateStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the scripts before SCRAM left: ``trust`` for everyone, no superuser password."""
    hba = ps.cache / "data" / "postgres" / "pgdata" / "pg_hba.conf"
    hba.write_text(TRUST)
    with psycopg.connect(ps.pg_admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_reload_conf()")
        admin.execute("ALTER ROLE loa PASSWORD NULL")
    with connect_without_password(ps, monkeypatch) as conn:  # the old state is real
        assert conn.execute("SELECT current_user").fetchone() == ("loa",)


def assert_passwords_only(ps: PrivateStack, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        connect_without_password(ps, monkeypatch)
    with psycopg.connect(ps.pg_admin_url, autocommit=True) as admin:  # PGPASSWORD: .env.local's
        methods = {r[0] for r in admin.execute("SELECT auth_method FROM pg_hba_file_rules").fetchall()}
        assert methods == {"scram-sha-256"}
        owners = admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'loa_owner'").fetchone()
        assert owners == (1,)


def test_a_trust_cluster_is_secured_while_running_and_across_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with PrivateStack.started(tmp_path, "postgres") as ps:
        make_it_an_older_release(ps, monkeypatch)
        ps.start("postgres")  # `make run` again on the running server
        assert_passwords_only(ps, monkeypatch)

        make_it_an_older_release(ps, monkeypatch)
        ps.stop("postgres")
        ps.start("postgres")
        assert_passwords_only(ps, monkeypatch)
