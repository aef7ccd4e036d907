"""The broker itself refuses forged writes: each service signs in as its own principal and may write
only its topics (loa.kafka_acl); a wrong password and a PLAINTEXT connection get nothing.

Runs against the secured local stack (SASL_SSL + SCRAM-SHA-512, StandardAuthorizer, deny by
default). The ACLs of the table are granted for this module's topic prefix and removed after.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from dotenv import dotenv_values
from pydantic import BaseModel, SecretStr

from deploy.local.kafka_principals import LOA_TOPICS, CreateAcls, DeleteAcls
from loa.events import Delivery, DeliveryState, DeliveryStatus, topics
from loa.kafka import make_broker
from loa.kafka_acl import TRACKER_GROUP, all_acls, publisher_group, user_of
from loa.kafka_security import client_security
from loa.settings import ENV_FILE, LoaSettings
from loa.testing.kafka_client import client_options
from tests.conftest import Stack
from tests.integration.publisher.publisher_helpers import approved, content, retracted, retry

pytestmark = pytest.mark.integration

CONTENT_ID = "tb-so-noi-vu-2025"
FORGED = "forged"


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"t-acl-{uuid.uuid4().hex[:8]}."


@pytest.fixture(scope="module")
async def granted(stack: Stack, prefix: str) -> AsyncIterator[str]:
    """This module's Loa topics, and the table's topic ACLs for them (the groups it joins are the
    stack's own, unprefixed, which the stack's setup granted); both removed at the end."""
    admin = AIOKafkaAdminClient(**client_options(stack.kafka_bootstrap))
    await admin.start()
    acls = [a for a in all_acls(prefix) if a.resource == "TOPIC"]
    try:
        await admin.create_topics([NewTopic(prefix + t, 3, 1) for t in LOA_TOPICS])
        await admin._send_request(CreateAcls(acls))
        yield prefix
    finally:
        await admin._send_request(DeleteAcls(acls))
        await admin.delete_topics([prefix + t for t in LOA_TOPICS])
        await admin.close()


def as_service(stack: Stack, service: str, *, password: str | None = None) -> LoaSettings:
    """Settings that sign in as ``service``'s principal (its password from ``.env.local``)."""
    user = user_of(service)
    assert user is not None
    env: dict[str, Any] = {**dotenv_values(ENV_FILE)}
    return LoaSettings(
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_sasl_username=user.name,
        kafka_sasl_password=SecretStr(password if password is not None else env[user.password_key]),
    )


async def write(settings: LoaSettings, topic: str, event: BaseModel) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        **client_security(settings),
    )
    try:
        await producer.start()
        await producer.send_and_wait(topic, event.model_dump_json().encode(), key=CONTENT_ID.encode())
    finally:
        await producer.stop()


def status() -> DeliveryStatus:
    return DeliveryStatus(
        payload=Delivery(
            content_id=CONTENT_ID,
            version=1,
            channel="facebook",
            account="trang-chinh",
            state=DeliveryState.PUBLISHED,
            attempt=1,
            sequence=1,
            public_url="https://www.facebook.com/so.noi.vu/posts/1",
            note="Đã đăng bài về Đà Nẵng",
        )
    )


def approval() -> BaseModel:
    return approved(content(CONTENT_ID))


FORGERIES = [
    pytest.param("facebook", topics.CONTENT, approval, id="approval-by-publisher"),
    pytest.param("website", topics.CONTENT, lambda: retracted(CONTENT_ID), id="retraction-by-publisher"),
    pytest.param("ingest", topics.COMMANDS, lambda: retry(CONTENT_ID), id="command-by-ingest"),
    pytest.param("zalo", topics.COMMANDS, lambda: retry(CONTENT_ID), id="command-by-publisher"),
    pytest.param("ingest", topics.DELIVERY, status, id="status-by-ingest"),
    pytest.param("tracker", topics.DELIVERY, status, id="status-by-tracker"),
    pytest.param("ingest", topics.PAYLOAD, status, id="payload-by-ingest"),  # the archive keeps what comes
]


@pytest.mark.parametrize(("service", "topic", "event"), FORGERIES)
async def test_the_broker_refuses_a_forged_write(
    stack: Stack, granted: str, service: str, topic: str, event: Any
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await write(as_service(stack, service), granted + topic, event())


RIGHTFUL = [
    pytest.param("ingest", topics.CONTENT, approval, id="approval-by-ingest"),
    pytest.param("tracker", topics.CONTENT, lambda: retracted(CONTENT_ID), id="retraction-by-tracker"),
    pytest.param("tracker", topics.COMMANDS, lambda: retry(CONTENT_ID), id="command-by-tracker"),
    pytest.param("youtube", topics.DELIVERY, status, id="status-by-publisher"),
    pytest.param("x", topics.PAYLOAD, status, id="payload-by-publisher"),
]


@pytest.mark.parametrize(("service", "topic", "event"), RIGHTFUL)
async def test_the_rightful_writer_is_let_through(
    stack: Stack, granted: str, service: str, topic: str, event: Any
) -> None:
    await write(as_service(stack, service), granted + topic, event())


async def test_a_wrong_password_is_refused(stack: Stack, granted: str) -> None:
    wrong = as_service(stack, "ingest", password="mat-khau-sai-" + "x" * 32)
    with pytest.raises(KafkaError) as refused:
        await write(wrong, granted + topics.CONTENT, approval())
    assert not isinstance(refused.value, TopicAuthorizationFailedError)


async def test_a_plaintext_connection_is_refused(stack: Stack, granted: str) -> None:
    plain = LoaSettings(kafka_bootstrap=stack.kafka_bootstrap, kafka_security_protocol="PLAINTEXT")
    with pytest.raises(KafkaConnectionError):
        await write(plain, granted + topics.CONTENT, approval())


async def test_a_consumer_cannot_join_another_services_group(stack: Stack, granted: str) -> None:
    """The facebook publisher may read the content topic, but not in the tracker's group: it would
    take the tracker's partitions and commit its offsets."""
    settings = as_service(stack, "facebook")
    consumer = AIOKafkaConsumer(
        granted + topics.CONTENT,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=TRACKER_GROUP,
        auto_offset_reset="earliest",
        **client_security(settings),
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            await consumer.start()  # joining the group is refused
    finally:
        await consumer.stop()


async def test_a_publisher_reads_and_commits_in_its_own_group(stack: Stack, granted: str) -> None:
    settings = as_service(stack, "facebook")
    consumer = AIOKafkaConsumer(
        granted + topics.CONTENT,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=publisher_group("facebook"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_security(settings),
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=2_000)
        await consumer.commit()  # OffsetCommit: READ on the group and the topic
    finally:
        await consumer.stop()


async def test_the_archivers_broker_starts_as_its_principal_and_writes_only_its_dead_letters(
    stack: Stack, granted: str
) -> None:
    """The archiver writes one topic, its payloads' dead letters (it alone reads loa.payload.v1), and
    that WRITE is what gives its idempotent producer a producer id (KIP-679): it starts, sends there,
    and a write of a content event or of a payload is refused."""
    settings = as_service(stack, "archive")
    broker = make_broker(settings, client_id="loa-archive")
    try:
        await broker.start()  # without a topic WRITE: ClusterAuthorizationFailedError
        await broker.publish(b"{}", topic=granted + topics.dlq(topics.PAYLOAD), key=b"k")
    finally:
        await broker.stop()
    with pytest.raises(KafkaError):
        await write(settings, granted + topics.CONTENT, approval())
    with pytest.raises(KafkaError):
        await write(settings, granted + topics.PAYLOAD, approval())
