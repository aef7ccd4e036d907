"""How a Loa Kafka client signs in: the one place that turns settings into security options.

``LOA_KAFKA_SECURITY_PROTOCOL=SASL_SSL`` (the default, required in production): TLS verified
against ``LOA_KAFKA_SSL_CAFILE`` (else the system's CAs), then SASL/SCRAM as the service's own
principal (``LOA_KAFKA_SASL_USERNAME``/``_PASSWORD``, see loa.kafka_acl). ``PLAINTEXT``: neither
(development against an unsecured broker only). FastStream takes the ``security`` object;
aiokafka's producers, consumers and admin clients take ``client_security``'s keyword arguments,
FastStream's own translation of the same object (``faststream.kafka.security.parse_security``).
"""

from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from loa.settings import LoaSettings

MECHANISMS: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "SCRAM-SHA-512": SASLScram512,
    "SCRAM-SHA-256": SASLScram256,
    "PLAIN": SASLPlaintext,  # always inside TLS here: SASL_SSL is the only secured protocol offered
}


class KafkaSecurityError(ValueError):
    """The Kafka security settings cannot make a client: the message names the setting."""


def broker_security(settings: LoaSettings) -> BaseSecurity | None:
    """FastStream's security for ``settings``; None for PLAINTEXT."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    password = settings.kafka_sasl_password.get_secret_value()
    if not settings.kafka_sasl_username:
        raise KafkaSecurityError(
            "LOA_KAFKA_SASL_USERNAME is empty: SASL_SSL signs in as the service's principal"
        )
    if not password:
        raise KafkaSecurityError("LOA_KAFKA_SASL_PASSWORD is empty: SASL_SSL needs the principal's password")
    cafile = settings.kafka_ssl_cafile
    if cafile is not None and not cafile.is_file():
        raise KafkaSecurityError(f"LOA_KAFKA_SSL_CAFILE: no such file {cafile}")
    context = create_ssl_context(cafile=str(cafile) if cafile else None)
    mechanism = MECHANISMS[settings.kafka_sasl_mechanism]
    return mechanism(settings.kafka_sasl_username, password, ssl_context=context, use_ssl=True)


def client_security(settings: LoaSettings) -> dict[str, Any]:
    """The same, as keyword arguments of aiokafka's ``AIOKafkaProducer``/``Consumer``/``AdminClient``."""
    return parse_security(broker_security(settings))
