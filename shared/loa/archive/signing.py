"""The export's signature: Ed25519 (RFC 8032) over ``manifest.json``, with ``cryptography``.

``LOA_ARCHIVE_SIGNING_KEY`` holds the private key as base64 of its 32 raw bytes
(``loa archive keygen`` makes one); ``loa archive public-key`` prints the public key (base64 of 32
raw bytes), which the office publishes so that anyone can check an export
(``loa archive verify --public-key``).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

SETTING = "LOA_ARCHIVE_SIGNING_KEY"


def _raw32(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"{what}: expected base64 of 32 raw Ed25519 key bytes")
    return raw


def private_key(value: str) -> Ed25519PrivateKey:
    """The key of ``LOA_ARCHIVE_SIGNING_KEY``; the refusal names the setting, never the value."""
    if not value:
        raise ValueError(f"{SETTING} is not set (make one: loa archive keygen)")
    return Ed25519PrivateKey.from_private_bytes(_raw32(value, SETTING))


def public_key(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw32(value, "public key"))


def public_b64(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def new_private_b64() -> str:
    key = Ed25519PrivateKey.generate()
    return base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return base64.b64encode(key.sign(data)) + b"\n"


def signature_ok(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature.strip(), validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
