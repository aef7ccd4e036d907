"""Who may do what on Kafka: the one table of Loa's Kafka principals and what each may read and write.

The broker denies everything no ACL allows (``allow.everyone.if.no.acl.found=false``); the local
stack's setup (``deploy/local/kafka_principals.py``) creates these ACLs, docs/security.md shows them
(``python -m loa.kafka_acl`` prints the table) and ``tests/security/test_kafka_acls.py`` proves the
forged writes are refused. A topic or consumer group a service starts using gets its row here.

Kafka implies DESCRIBE from READ and WRITE (Kafka docs, "Authorization and ACLs": operations and
resources), and an idempotent producer needs only WRITE on its topics since Kafka 3.0 (KIP-679).
Topics are made at setup by the admin: no service may create one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from loa.events import topics

ADMIN = "loa-admin"
"""The super user: the stack's setup, its health check and the test harness; never a service."""

CHANNELS = ("website", "facebook", "zalo", "youtube", "x", "webhook", "email", "tiktok")
"""The channel publishers that run as their own principal (the ``loa.channels`` entry points)."""

TRACKER_GROUP = "loa-tracker"
INGEST_RETRACTIONS_GROUP = "loa-ingest-retractions"
LISTENER_GROUP = "loa-listener"
"""The listener's group on ``loa.delivery.v1``: it learns the published posts it then polls."""
ARCHIVE_GROUP = "loa-archive"
"""The archiver's group on ``loa.content.v1`` and ``loa.delivery.v1``: it keeps every event of both."""
ARCHIVE_PAYLOADS_GROUP = "loa-archive-payloads"
"""The archiver's group on ``loa.payload.v1``: it stores what each attempt sent."""


def publisher_group(channel: str) -> str:
    """The consumer group of a channel's publisher (its commands group adds ``-commands``)."""
    return f"loa-publisher-{channel}"


@dataclass(frozen=True)
class Reading:
    """A consumer group of a principal and the topics it reads; ``dead_letters``: it owns their
    ``<topic>.dlq`` (``loa.kafka.settle_refusals`` with ``owner=True``) and so writes it."""

    group: str
    topics: tuple[str, ...]
    dead_letters: bool = False


@dataclass(frozen=True)
class KafkaUser:
    """One service's SCRAM principal: the topics it writes and the groups it reads in."""

    service: str
    """Its name in deploy/local/services.Procfile."""
    name: str
    writes: tuple[str, ...]
    readings: tuple[Reading, ...]

    @property
    def password_key(self) -> str:
        """The ``.env.local`` key of its password: ``LOA_KAFKA_PASSWORD_INGEST``."""
        return f"LOA_KAFKA_PASSWORD_{self.service.upper()}"


def _publisher(channel: str) -> KafkaUser:
    group = publisher_group(channel)
    return KafkaUser(
        service=channel,
        name=f"loa-publisher-{channel}",
        writes=(topics.DELIVERY, topics.PAYLOAD),
        readings=(Reading(group, (topics.CONTENT,)), Reading(f"{group}-commands", (topics.COMMANDS,))),
    )


USERS: tuple[KafkaUser, ...] = (
    KafkaUser(
        service="ingest",
        name="loa-ingest",
        writes=(topics.CONTENT, topics.AUDIT),
        readings=(Reading(INGEST_RETRACTIONS_GROUP, (topics.CONTENT,)),),
    ),
    KafkaUser(
        service="tracker",
        # content: its retract path; commands: retry and cancel; the tracker's groups own every
        # topic's dead letters (services/tracker/consumer.py)
        name="loa-tracker",
        writes=(topics.CONTENT, topics.COMMANDS, topics.AUDIT),
        readings=(
            Reading(TRACKER_GROUP, (topics.DELIVERY, topics.CONTENT), dead_letters=True),
            Reading(f"{TRACKER_GROUP}-commands", (topics.COMMANDS,), dead_letters=True),
            Reading(f"{TRACKER_GROUP}-audit", (topics.AUDIT,), dead_letters=True),
            Reading(f"{TRACKER_GROUP}-engagement", (topics.ENGAGEMENT,), dead_letters=True),
        ),
    ),
    KafkaUser(
        service="listener",
        # reads the published posts off the status events; the tracker owns their dead letters
        name="loa-listener",
        writes=(topics.ENGAGEMENT,),
        readings=(Reading(LISTENER_GROUP, (topics.DELIVERY,)),),
    ),
    KafkaUser(
        service="archive",
        # reads every content event and platform answer into the archive (the tracker owns the dead
        # letters of both topics) and what each attempt sent (it alone reads those: it owns theirs)
        name="loa-archive",
        writes=(),
        readings=(
            Reading(ARCHIVE_GROUP, (topics.CONTENT, topics.DELIVERY)),
            Reading(ARCHIVE_PAYLOADS_GROUP, (topics.PAYLOAD,), dead_letters=True),
        ),
    ),
    *(_publisher(channel) for channel in CHANNELS),
)

Resource = Literal["TOPIC", "GROUP"]
Operation = Literal["READ", "WRITE"]


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW rule, literal resource name, any host."""

    user: str
    resource: Resource
    name: str
    operation: Operation

    @property
    def principal(self) -> str:
        return f"User:{self.user}"


def acls_of(user: KafkaUser, prefix: str = "") -> Iterator[Acl]:
    """``user``'s rules for topics and groups named ``{prefix}{name}`` (``LOA_TOPIC_PREFIX``, as
    ``LoaSettings.topic`` and ``LoaSettings.group`` name them)."""
    for topic in user.writes:
        yield Acl(user.name, "TOPIC", prefix + topic, "WRITE")
    for reading in user.readings:
        yield Acl(user.name, "GROUP", prefix + reading.group, "READ")
        for topic in reading.topics:
            yield Acl(user.name, "TOPIC", prefix + topic, "READ")
            if reading.dead_letters:
                yield Acl(user.name, "TOPIC", prefix + topics.dlq(topic), "WRITE")


def all_acls(prefix: str = "") -> list[Acl]:
    """Every rule of every principal, without repeats, sorted."""
    return sorted({acl for user in USERS for acl in acls_of(user, prefix)})


def user_of(service: str) -> KafkaUser | None:
    """The principal a Procfile service runs as (None: it does not use Kafka, e.g. the sandbox)."""
    return next((u for u in USERS if u.service == service), None)


def service_credentials(service: str, env: Mapping[str, str]) -> dict[str, str]:
    """The ``LOA_KAFKA_SASL_*`` settings that make ``service`` sign in as its own principal,
    its password taken from ``env`` (``.env.local`` and the environment); empty if it has none."""
    user = user_of(service)
    if user is None or not env.get(user.password_key):
        return {}
    return {"LOA_KAFKA_SASL_USERNAME": user.name, "LOA_KAFKA_SASL_PASSWORD": env[user.password_key]}


def markdown_table(prefix: str = "") -> str:
    """The ACLs as the Markdown table docs/security.md shows."""
    lines = ["| Principal | Operation | Resource | Name |", "|---|---|---|---|"]
    lines += [f"| `{a.user}` | {a.operation} | {a.resource.lower()} | `{a.name}` |" for a in all_acls(prefix)]
    return "\n".join(lines)


if __name__ == "__main__":  # the table for docs/security.md, or the password keys for kafka.sh
    if sys.argv[1:] == ["--password-keys"]:
        sys.stdout.write("".join(f"{u.password_key}\n" for u in USERS))
    else:
        sys.stdout.write(markdown_table() + "\n")
