"""The local broker's TLS material: a development CA and a broker certificate signed by it.

Written once into ``<cache>/tls/`` (kept while valid, so clients keep trusting the same CA):
``ca.pem`` (the CA certificate, what ``LOA_KAFKA_SSL_CAFILE`` names), ``ca-key.pem`` and
``broker.pem`` (the broker's PKCS#8 private key followed by its certificate and the CA: the PEM
keystore Kafka reads with ``ssl.keystore.type=PEM``, KIP-651). Keys are created 0600.
Usage: ``python kafka_tls.py <cache>/tls``
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825  # the longest a server certificate should live (CA/Browser Forum baseline, 2018)
RENEW_BEFORE = dt.timedelta(days=30)
BROKER_NAMES = ("localhost", "kafka")  # ``kafka``: the broker's name in docker-compose.yml
BROKER_ADDRESSES = ("127.0.0.1", "::1")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that is 0600 from its first byte, then move it in place."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Loa development"),
            x509.NameAttribute(NameOID.COMMON_NAME, subject),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
    )
    if issuer is None:  # the CA
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in BROKER_NAMES]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in BROKER_ADDRESSES]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _still_good(folder: Path) -> bool:
    """Whether the broker certificate exists and lives for more than ``RENEW_BEFORE``."""
    try:
        pem = (folder / "broker.pem").read_bytes()
        certs = x509.load_pem_x509_certificates(pem)
    except (OSError, ValueError):
        return False
    return all(c.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE for c in certs)


def ensure(folder: Path) -> bool:
    """Create the CA and the broker keystore in ``folder`` unless valid ones are there; True if made."""
    if _still_good(folder) and (folder / "ca.pem").is_file():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # the keys are 0600; ca.pem is what every client (another user in compose) reads
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Loa development CA", ca_key, None, ca_key)
    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker = _certificate("Loa local Kafka broker", broker_key, ca, ca_key)
    _write_private(folder / "ca-key.pem", _key_pem(ca_key))
    _write_private(folder / "broker.pem", _key_pem(broker_key) + _pem(broker) + _pem(ca))
    (folder / "ca.pem").write_bytes(_pem(ca))  # public: what clients trust
    return True


def main() -> int:
    folder = Path(sys.argv[1])
    made = ensure(folder)
    print(f"[kafka] {'made a new' if made else 'kept the'} CA and broker certificate in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
