"""The one ACL table: who may write which Loa topic, per service, under any topic prefix."""

from __future__ import annotations

import pytest

from deploy.local.supervise import kafka_identity, parse_procfile
from loa.channels import registry
from loa.events import topics
from loa.kafka_acl import (
    CHANNELS,
    USERS,
    all_acls,
    markdown_table,
    publisher_group,
    service_credentials,
    user_of,
)
from loa.settings import REPO_ROOT, LoaSettings

pytestmark = pytest.mark.unit


def writers(topic: str, prefix: str = "") -> set[str]:
    return {
        a.user
        for a in all_acls(prefix)
        if a.resource == "TOPIC" and a.operation == "WRITE" and a.name == prefix + topic
    }


def test_only_ingest_and_tracker_write_content_only_publishers_statuses_only_the_tracker_commands() -> None:
    assert writers(topics.CONTENT) == {"loa-ingest", "loa-tracker"}
    assert writers(topics.DELIVERY) == {f"loa-publisher-{c}" for c in CHANNELS}
    assert writers(topics.COMMANDS) == {"loa-tracker"}
    assert writers(topics.AUDIT) == {"loa-ingest", "loa-tracker"}
    # the groups that own dead letters (the tracker's) write them, nobody else
    for topic in (topics.CONTENT, topics.DELIVERY, topics.COMMANDS):
        assert writers(topics.dlq(topic)) == {"loa-tracker"}


def test_topic_and_group_rules_follow_the_prefix() -> None:
    """Tenants (and tests) on one broker never share a consumer group: the ACLs name each group
    under the prefix, as ``LoaSettings.group`` does for the services that join it."""
    prefixed = all_acls("t-ab12.")
    for resource in ("TOPIC", "GROUP"):
        assert {a.name for a in prefixed if a.resource == resource} == {
            "t-ab12." + a.name for a in all_acls() if a.resource == resource
        }
    settings = LoaSettings(topic_prefix="t-ab12.")
    assert settings.group(publisher_group("zalo")) in {a.name for a in prefixed if a.resource == "GROUP"}


def test_each_service_reads_only_in_its_own_groups() -> None:
    owners: dict[str, str] = {}
    for acl in all_acls():
        if acl.resource == "GROUP":
            assert owners.setdefault(acl.name, acl.user) == acl.user, f"{acl.name} is shared"
    assert owners["loa-tracker"] == "loa-tracker"
    assert owners["loa-ingest-retractions"] == "loa-ingest"
    assert owners["loa-publisher-zalo-commands"] == "loa-publisher-zalo"


def test_every_channel_and_every_kafka_service_of_make_run_has_its_own_principal() -> None:
    assert set(CHANNELS) == set(registry.load_entry_points())
    procfile = parse_procfile((REPO_ROOT / "deploy" / "local" / "services.Procfile").read_text("utf-8"))
    without = {s.name for s in procfile if user_of(s.name) is None}
    assert without == {"sandbox"}  # the emulators talk HTTP only
    assert len({u.name for u in USERS}) == len(USERS)


def test_a_service_signs_in_with_its_own_name_and_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "LOA_KAFKA_PASSWORD_FACEBOOK": "mat-khau-facebook",
        "LOA_KAFKA_PASSWORD_TRACKER": "mat-khau-tracker",
    }
    assert service_credentials("facebook", env) == {
        "LOA_KAFKA_SASL_USERNAME": "loa-publisher-facebook",
        "LOA_KAFKA_SASL_PASSWORD": "mat-khau-facebook",
    }
    assert service_credentials("sandbox", env) == {}
    assert service_credentials("zalo", env) == {}  # no password: nothing, never another's
    monkeypatch.setenv("LOA_KAFKA_PASSWORD_INGEST", "mat-khau-ingest")
    assert kafka_identity("ingest")["LOA_KAFKA_SASL_USERNAME"] == "loa-ingest"
    assert kafka_identity("ingest")["LOA_KAFKA_SASL_PASSWORD"] == "mat-khau-ingest"


def test_docs_security_shows_the_table_as_the_code_has_it() -> None:
    assert markdown_table() in (REPO_ROOT / "docs" / "security.md").read_text("utf-8")


def test_setup_makes_each_topic_once_and_every_topic_an_acl_names() -> None:
    """Kafka refuses every topic a CreateTopics request names twice; the audit topics were listed
    twice, never made, and the tracker, as its own principal, could not start (``make run``)."""
    from deploy.local.kafka_principals import LOA_TOPICS

    assert len(set(LOA_TOPICS)) == len(LOA_TOPICS)
    named = {a.name for a in all_acls() if a.resource == "TOPIC"}
    assert named <= set(LOA_TOPICS), named - set(LOA_TOPICS)
