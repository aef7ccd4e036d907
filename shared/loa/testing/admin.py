"""The admin path of the tests' harness and the benches: PostgreSQL's bootstrap superuser and
Kafka's admin (super user).

Only setup and cleanup use it (creating and dropping a test's database); services run as their own
roles (``loa.access.storage``). Its password is ``.env.local``'s ``LOA_PG_PASSWORD`` (or the
environment's), handed to libpq and asyncpg through ``PGPASSWORD``, which both read when a URL has
no password (libpq: postgresql.org/docs/15/libpq-envars.html; asyncpg ``connect_utils``), so admin
URLs carry no secret and nothing logs one.
"""

from __future__ import annotations

import os

from dotenv import dotenv_values

from loa.access.storage import SUPERUSER_PASSWORD_SETTING
from loa.kafka_acl import ADMIN
from loa.settings import ENV_FILE


def use_pg_superuser_password() -> None:
    """Set ``PGPASSWORD`` for this process and its children (unless already set)."""
    password = os.environ.get(SUPERUSER_PASSWORD_SETTING) or dotenv_values(ENV_FILE).get(
        SUPERUSER_PASSWORD_SETTING
    )
    if password and "PGPASSWORD" not in os.environ:
        os.environ["PGPASSWORD"] = password


def sign_in_to_kafka_as_admin() -> None:
    """Sign in to the secured broker as the admin (``LOA_KAFKA_ADMIN_PASSWORD``): the harness makes
    its own topics and reads and writes them all. Set in the environment, so the services a test or
    bench starts (on its own topic prefix and consumer groups, which no service principal may use)
    sign in too. An identity already in the environment is kept."""
    values = {**dotenv_values(ENV_FILE), **os.environ} if ENV_FILE.is_file() else dict(os.environ)
    password = values.get("LOA_KAFKA_ADMIN_PASSWORD")
    if password and not os.environ.get("LOA_KAFKA_SASL_USERNAME"):
        os.environ["LOA_KAFKA_SASL_USERNAME"] = ADMIN
        os.environ["LOA_KAFKA_SASL_PASSWORD"] = password
