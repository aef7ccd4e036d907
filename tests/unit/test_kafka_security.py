"""Kafka security settings: SASL_SSL by default and in production, clear refusals, no secret shown."""

from __future__ import annotations

import functools
import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from loa.kafka import make_broker
from loa.kafka_security import KafkaSecurityError, client_security
from loa.settings import LoaSettings

pytestmark = pytest.mark.unit

PASSWORD = "mat-khau-dai-cua-dich-vu-ingest-2025"


def test_production_refuses_plaintext_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="LOA_KAFKA_SECURITY_PROTOCOL must be SASL_SSL in production"):
        LoaSettings(mode="production", kafka_security_protocol="PLAINTEXT")
    assert LoaSettings(mode="production").kafka_security_protocol == "SASL_SSL"  # the default


def test_development_may_speak_plaintext_to_an_unsecured_broker() -> None:
    plain = LoaSettings(mode="development", kafka_security_protocol="PLAINTEXT")
    assert client_security(plain) == {}


def test_sasl_ssl_without_a_principal_names_the_missing_setting() -> None:
    with pytest.raises(KafkaSecurityError, match="LOA_KAFKA_SASL_USERNAME"):
        client_security(
            LoaSettings(mode="development", kafka_sasl_username="", kafka_sasl_password=SecretStr("x"))
        )
    with pytest.raises(KafkaSecurityError, match="LOA_KAFKA_SASL_PASSWORD"):
        client_security(
            LoaSettings(
                mode="development", kafka_sasl_username="loa-ingest", kafka_sasl_password=SecretStr("")
            )
        )
    with pytest.raises(KafkaSecurityError, match="LOA_KAFKA_SSL_CAFILE"):
        client_security(
            LoaSettings(
                mode="development",
                kafka_sasl_username="loa-ingest",
                kafka_sasl_password=SecretStr(PASSWORD),
                kafka_ssl_cafile=Path("/khong/co/ca.pem"),
            )
        )


def test_every_client_gets_tls_that_verifies_and_scram_sha_512_and_the_password_is_never_shown() -> None:
    settings = LoaSettings(
        mode="development", kafka_sasl_username="loa-ingest", kafka_sasl_password=SecretStr(PASSWORD)
    )
    options = client_security(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "loa-ingest"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert PASSWORD not in repr(settings) + str(settings) + str(settings.model_dump())
    builder = make_broker(settings).config.broker_config.builder  # FastStream's consumers: the same
    assert isinstance(builder, functools.partial)
    consumer = builder.keywords
    assert consumer["security_protocol"] == "SASL_SSL"
    assert consumer["sasl_mechanism"] == "SCRAM-SHA-512"


def test_a_bad_protocol_is_named_without_echoing_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        LoaSettings(
            mode="development", kafka_security_protocol="SSL", kafka_sasl_password=SecretStr(PASSWORD)
        )  # type: ignore[arg-type]
    assert "kafka_security_protocol" in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_plain_is_only_ever_offered_inside_tls() -> None:
    """PLAIN (the broker's static admin credential, deploy/local/kafka_principals.py) sends the
    password itself: it must never leave without TLS."""
    settings = LoaSettings(
        mode="development",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="loa-admin",
        kafka_sasl_password=SecretStr(PASSWORD),
    )
    options = client_security(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "PLAIN"
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED
