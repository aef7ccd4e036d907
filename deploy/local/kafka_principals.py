"""Make the secured broker's principals, ACLs and topics from ``loa.kafka_acl``; idempotent, every start.

Signs in as the admin with PLAIN over TLS (``LOA_KAFKA_ADMIN_PASSWORD``, the broker's static
credential: it works on any data folder), then: upserts the SCRAM-SHA-512 credential of the admin
and of each service (passwords from ``.env.local``), creates the ACLs of the one table (for topics
under ``LOA_TOPIC_PREFIX``) and the Loa topics that do not exist yet (no service may create one).
Never prints a secret.
Usage: ``python kafka_principals.py 127.0.0.1:9092 <cache>/tls/ca.pem``
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import sys
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError, SaslAuthenticationFailed
from aiokafka.protocol.admin import CreateAclsRequest_v1, DeleteAclsRequest_v1
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)
from dotenv import dotenv_values
from pydantic import SecretStr

from loa.events import topics
from loa.kafka_acl import ADMIN, USERS, Acl, all_acls
from loa.kafka_security import client_security
from loa.settings import ENV_FILE, LoaSettings

WAIT_SECONDS = 90
SCRAM_SHA_512 = 2  # ScramMechanism.SCRAM_SHA_512's type (Kafka clients, ScramMechanism.java)
SCRAM_ITERATIONS = 8192  # Kafka's minimum for SCRAM-SHA-512 is 4096 (ScramMechanism.java)
# Kafka's AclOperation / ResourceType / PatternType / AclPermissionType codes (Kafka clients,
# org.apache.kafka.common.acl and org.apache.kafka.common.resource)
RESOURCE = {"TOPIC": 2, "GROUP": 3}
OPERATION = {"READ": 3, "WRITE": 4}
LITERAL, ALLOW = 3, 3
LOA_TOPICS = topics.ALL
"""Made here by the admin (no service may create a topic). Each once: Kafka refuses every topic a
CreateTopics request names twice (INVALID_REQUEST), which left the audit topics missing and the
tracker unable to start as its own principal (the first end-to-end ``make run``)."""


class _AlterScramResponse(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScramStruct(RequestStruct):  # type: ignore[misc]  # aiokafka is untyped
    """AlterUserScramCredentials v0 (KIP-554; Kafka's AlterUserScramCredentialsRequest.json)."""

    API_KEY = 51
    API_VERSION = 0
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _AlterScramResponse
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterScram(Request[_AlterScramStruct]):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 51

    def __init__(self, credentials: dict[str, str], deletions: tuple[str, ...] = ()) -> None:
        self.credentials = credentials
        self.deletions = deletions

    def build(self, request_struct_class: type[_AlterScramStruct]) -> _AlterScramStruct:
        upsertions: list[tuple[object, ...]] = []
        for name, password in sorted(self.credentials.items()):
            salt = secrets.token_bytes(32)
            # SCRAM's Hi() is PBKDF2 with the mechanism's HMAC (RFC 5802 §2.2; Kafka's ScramFormatter)
            salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, SCRAM_ITERATIONS)
            upsertions.append((name, SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted, {}))
        deletions: list[tuple[object, ...]] = [(name, SCRAM_SHA_512, {}) for name in self.deletions]
        return request_struct_class(deletions, upsertions, {})


def _acl_rows(acls: list[Acl]) -> list[tuple[int, str, int, str, str, int, int]]:
    """ACL bindings as CreateAcls v1 creations and DeleteAcls v1 filters (the same fields)."""
    return [
        (RESOURCE[a.resource], a.name, LITERAL, a.principal, "*", OPERATION[a.operation], ALLOW) for a in acls
    ]


class CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]  # aiokafka is untyped
    """CreateAcls v1 with many creations at once (aiokafka's own wrapper sends one)."""

    API_KEY = 30

    def __init__(self, acls: list[Acl]) -> None:
        self.acls = acls

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(_acl_rows(self.acls))


class DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]  # aiokafka is untyped
    """DeleteAcls v1 of exactly these bindings (the tests remove what they granted)."""

    API_KEY = 31

    def __init__(self, acls: list[Acl]) -> None:
        self.acls = acls

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> DeleteAclsRequest_v1:
        return request_struct_class(_acl_rows(self.acls))


def stack_env() -> dict[str, str]:
    """``.env.local`` under the environment (the environment wins, as in lib.sh's env_value)."""
    file = Path(os.environ.get("LOA_ENV_FILE", ENV_FILE))
    values = {k: v for k, v in dotenv_values(file).items() if v is not None} if file.is_file() else {}
    return {**values, **os.environ}


def error_lines(results: list[tuple[int, str | None]]) -> list[str]:
    """``error 58: ...`` for each ``(error code, message)`` that is not 0."""
    return [f"error {code}: {message}" for code, message in results if code]


async def sign_in(settings: LoaSettings) -> None:
    """One connection that signs in; raises PermissionError when the broker refuses the credential
    (aiokafka's clients only log that and report "Unable to bootstrap")."""
    host, _, port = settings.kafka_bootstrap.split(",")[0].rpartition(":")
    try:
        conn = await create_conn(host, int(port), client_id="loa-setup", **client_security(settings))
    except SaslAuthenticationFailed as e:
        raise PermissionError(f"the broker refused the password of {settings.kafka_sasl_username}") from e
    conn.close()


async def admin_client(settings: LoaSettings) -> AIOKafkaAdminClient:
    """The admin client, signed in, once the broker serves; PermissionError: credential refused."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap, client_id="loa-setup", **client_security(settings)
        )
        try:
            await sign_in(settings)
            await admin.start()
            await admin.describe_cluster()
            return admin
        except (KafkaError, OSError):
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1)
        except BaseException:
            await admin.close()
            raise


async def setup(settings: LoaSettings, env: dict[str, str]) -> None:
    admin = await admin_client(settings)
    try:
        credentials = {u.name: env[u.password_key] for u in USERS if env.get(u.password_key)}
        credentials[ADMIN] = settings.kafka_sasl_password.get_secret_value()  # SCRAM for the harness
        missing = [u.password_key for u in USERS if not env.get(u.password_key)]
        if missing:
            raise SystemExit(f"[kafka] error: missing from .env.local: {', '.join(missing)}")
        scram = await admin._send_request(AlterScram(credentials))
        acls = await admin._send_request(CreateAcls(all_acls(settings.topic_prefix)))
        failures = error_lines([(code, msg) for _user, code, msg, _tags in scram.results])
        failures += error_lines([(code, msg) for code, msg in acls.creation_responses])
        if failures:
            raise SystemExit(f"[kafka] error: {'; '.join(failures)}")
        existing = set(await admin.list_topics())
        wanted = [settings.topic(t) for t in LOA_TOPICS if settings.topic(t) not in existing]
        if wanted:
            new = [NewTopic(t, num_partitions=3, replication_factor=1) for t in wanted]
            answer = await admin.create_topics(new)
            # CreateTopics v1+: (name, error code, message) per topic; 36: made meanwhile by another setup
            failures = error_lines([(c, f"{name}: {m}") for name, c, m, *_ in answer.topic_errors if c != 36])
            if failures:
                raise SystemExit(f"[kafka] error: topics not created: {'; '.join(failures)}")
        made = f"{len(credentials) - 1} service principals, {len(all_acls())} ACLs, {len(wanted)} new topics"
        sys.stdout.write(f"[kafka] {made}\n")
    finally:
        await admin.close()


def admin_settings(bootstrap: str, cafile: Path, env: dict[str, str]) -> LoaSettings:
    """The admin's static credential: PLAIN over TLS (works on any data folder)."""
    return LoaSettings(
        mode="development",
        kafka_bootstrap=bootstrap,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username=ADMIN,
        kafka_sasl_password=SecretStr(env.get("LOA_KAFKA_ADMIN_PASSWORD", "")),
        kafka_ssl_cafile=cafile,
    )


def main() -> int:
    bootstrap, cafile = sys.argv[1], Path(sys.argv[2])
    env = stack_env()
    settings = admin_settings(bootstrap, cafile, env)
    try:
        asyncio.run(setup(settings, env))
    except PermissionError as e:
        sys.stderr.write(f"[kafka] error: {e} (LOA_KAFKA_ADMIN_PASSWORD differs from the broker's?)\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
