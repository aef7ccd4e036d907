"""The Helm chart's copy of Loa's access tables, generated: ``deploy/helm/loa/files/loa.json``.

The chart (``deploy/helm/loa``) reads this file with ``.Files.Get`` for every name it must agree
with the code on: each service's Kafka principal and its ACLs (``loa.kafka_acl``, rendered as
Strimzi ``KafkaUser`` objects), the topics (``loa.events.topics``), the consumer group KEDA scales a
publisher on, the service's MinIO user and PostgreSQL role and databases (``loa.access.storage``,
``deploy/local/storage_users.py``) and the ports of its HTTP server and health endpoints (the
settings' defaults and each adapter's ``metrics_port``). Nothing is written by hand in the chart:

    PYTHONPATH=shared:. .venv/bin/python -m deploy.helm.chart_tables          # rewrite the file
    PYTHONPATH=shared:. .venv/bin/python -m deploy.helm.chart_tables --check  # exit 1 if stale

``tests/deploy/test_helm_chart.py`` fails when the file differs from what this module makes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from deploy.local.storage_users import READS_ACROSS
from loa.access.storage import RUNTIME_ROLES, store_user
from loa.events import topics
from loa.kafka_acl import CHANNELS, USERS, KafkaUser, acls_of, publisher_group

OUTPUT = Path(__file__).resolve().parent / "loa" / "files" / "loa.json"

SERVER_PORTS = {"ingest": 8080, "tracker": 8081, "website": 8082}
"""The HTTP port each service serves people and clients on (its settings' default)."""
PLATFORM_READERS = frozenset({"listener"})
"""Services besides the channel publishers that call the platforms' APIs: the listener reads each
published post's figures there (egress 443 in production, the sandbox in development)."""
CREDENTIALS_OPENERS = frozenset({"tracker", "listener"})
"""Services besides the publishers that get ``LOA_CREDENTIALS_KEY``: the tracker seals the
accounts' tokens (Connect), the listener opens them to read the posts' figures."""


TOKEN_CHECKERS = {"website": "publisher"}
"""Services that check service-account tokens in the tracker's token table with their own role, and
that role's store (``READS_ACROSS``): the website, for the listener's page-view reads. (The ingest
and the tracker read the table of their own ``LOA_DATABASE_URL``.)"""


def token_database(service: str) -> str | None:
    """The database whose ``service_tokens`` ``service`` checks tokens in (``LOA_ACCESS_DATABASE_URL``)."""
    reader = TOKEN_CHECKERS.get(service)
    if reader is None:
        return None
    store, table, _columns = READS_ACROSS[reader]
    if table != "service_tokens":
        raise ValueError(f"READS_ACROSS[{reader!r}] reads {table}, not the token table service_tokens")
    return next(r.database for r in RUNTIME_ROLES if r.store == store)


def health_ports() -> dict[str, int]:
    """The port of ``/livez`` and ``/readyz``: the ingest's and the tracker's server, each channel
    publisher's ``metrics_port`` (the website's too: its site's server has only ``/_healthz``)."""
    from loa.archive.settings import ArchiveSettings
    from loa.channels import registry
    from services.listener.settings import ListenerSettings

    adapters = registry.load_entry_points()
    listener = ListenerSettings.model_fields["listener_port"].default
    archive = ArchiveSettings.model_fields["archive_port"].default
    own = {"ingest": SERVER_PORTS["ingest"], "tracker": SERVER_PORTS["tracker"], "listener": listener}
    return own | {"archive": archive} | {channel: adapters[channel].metrics_port for channel in CHANNELS}


def database_setting(service: str) -> str:
    """The setting that holds the URL of a service's own store."""
    if service in CHANNELS:
        return "LOA_PUBLISHER_DATABASE_URL"
    return "LOA_LISTENER_DATABASE_URL" if service == "listener" else "LOA_DATABASE_URL"


def store_of(service: str) -> str | None:
    """The PostgreSQL store (``loa.access.storage.RuntimeRole.store``) a service runs on; None: it
    has none (the archiver keeps everything in its bucket)."""
    if service in CHANNELS:
        return "publisher"
    return service if any(r.store == service for r in RUNTIME_ROLES) else None


def strimzi_acls(user: KafkaUser) -> list[dict[str, Any]]:
    """``user``'s ACLs as Strimzi's ``KafkaUser.spec.authorization.acls`` (topics and groups
    unprefixed: the chart adds ``kafka.topicPrefix`` to both, as ``LoaSettings`` does)."""
    return [
        {"type": acl.resource.lower(), "name": acl.name, "operation": acl.operation.capitalize()}
        for acl in sorted(set(acls_of(user)))
    ]


def service_table(user: KafkaUser, ports: dict[str, int]) -> dict[str, Any]:
    store = store_of(user.service)
    roles = {r.store: r for r in RUNTIME_ROLES}
    s3 = store_user(user.service)
    return {
        "kafkaUser": user.name,
        "kafkaAcls": strimzi_acls(user),
        "consumerGroup": publisher_group(user.service) if user.service in CHANNELS else None,
        "s3User": s3.access_key if s3 else None,
        "pgRole": roles[store].name if store else None,
        "pgDatabase": roles[store].database if store else None,
        "databaseSetting": database_setting(user.service) if store else None,
        "pgReads": {read[0]: roles[read[0]].database} if (read := READS_ACROSS.get(user.service)) else {},
        "pgTokens": token_database(user.service),
        "healthPort": ports[user.service],
        "serverPort": SERVER_PORTS.get(user.service),
        "publisher": user.service in CHANNELS,
        "callsPlatforms": user.service in PLATFORM_READERS or user.service in CHANNELS,
        "credentialsKey": user.service in CREDENTIALS_OPENERS or user.service in CHANNELS,
    }


def tables() -> dict[str, Any]:
    ports = health_ports()
    return {
        "_generated": "by deploy/helm/chart_tables.py from loa.kafka_acl and loa.access.storage; do not edit",
        "topics": list(topics.ALL),
        "services": {user.service: service_table(user, ports) for user in USERS},
        "stores": [r.database for r in RUNTIME_ROLES],
    }


def render() -> str:
    return json.dumps(tables(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv[1:] == ["--check"]:
        if OUTPUT.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{OUTPUT} is stale: run python -m deploy.helm.chart_tables\n")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
