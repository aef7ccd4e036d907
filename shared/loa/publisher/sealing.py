"""An account's credentials sealed together with its options, under ``LOA_CREDENTIALS_KEY``.

Options steer where credentials go (a webhook or WordPress URL): a URL changed in the database
alone would send the stored credentials to another host. So the Fernet token holds, beside the
credentials, a digest of (channel, name, options): Fernet already authenticates its plaintext with
HMAC-SHA256 under the key, so the binding needs no second key nor a new column, and a token copied
to another account's row does not verify either.

Rows written before this binding hold the credentials alone (a JSON object): they are *legacy*,
sealed as they are by the first publisher start or ``loa accounts`` command after the upgrade (an
office's IT expects an upgrade to keep publishing; the options are those the previous version
already trusted). After that, a row that no longer verifies was changed outside ``loa accounts``.

``LOA_CREDENTIALS_KEY`` may hold several keys, comma-separated, newest first (MultiFernet):
tokens are written with the first and read with any, so a key is rotated by putting the new one
in front, running ``loa accounts rotate-key`` and then dropping the old one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from loa.channels import AuthError, Secret
from loa.files import write_private
from loa.publisher.settings import DATA_DIR

log = logging.getLogger(__name__)

DEV_KEY_FILE = Path(DATA_DIR) / "credentials.key"
_FORMAT = "loa-account/1"
"""First item of a sealed token's plaintext (a JSON list; a legacy one is a JSON object)."""
_TRANSIT = "loa-account-command/1"
"""First item of the plaintext of credentials sent in an ``account.set`` command."""


class HasCredentialsKey(Protocol):
    """Settings that carry ``LOA_CREDENTIALS_KEY`` (a publisher's, the tracker's)."""

    @property
    def credentials_key(self) -> SecretStr: ...


class AccountError(ValueError):
    """An account operation that cannot be done (unknown name, duplicate, bad key)."""


class OptionsTamperedError(AuthError):
    """The account's options do not match those sealed with its credentials: it is parked."""

    def __init__(self, channel: str, name: str, version: int) -> None:
        super().__init__(
            f"account {channel}/{name}: its options were changed outside `loa accounts` (they do not "
            f"match those sealed with its credentials); its credentials are not used. Check them and "
            f"set them again: loa accounts update {channel} {name} -o key=value ..."
        )
        self.version = version


class Opened(NamedTuple):
    credentials: dict[str, Secret]
    sealed: bool
    """False: a legacy token (credentials alone) or options that do not match the sealed ones."""
    legacy: bool


def load_cipher(settings: HasCredentialsKey) -> MultiFernet:
    """MultiFernet from ``LOA_CREDENTIALS_KEY`` (newest key first); without one (development), a
    key file made once in .loa/data."""
    value = settings.credentials_key.get_secret_value()
    if not value:
        if write_private(DEV_KEY_FILE, Fernet.generate_key()):
            log.warning("LOA_CREDENTIALS_KEY is not set: made a development key in %s", DEV_KEY_FILE)
        value = DEV_KEY_FILE.read_text().strip()
    keys = [k.strip() for k in value.split(",") if k.strip()]
    fernets: list[Fernet] = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except ValueError as e:  # never echo the key: it is the secret
            raise AccountError(
                f"LOA_CREDENTIALS_KEY: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64 bytes; several keys are comma-separated, newest first)"
            ) from e
    if not fernets:
        raise AccountError("LOA_CREDENTIALS_KEY holds no key")
    return MultiFernet(fernets)


def options_digest(channel: str, name: str, options: Mapping[str, Any]) -> str:
    """Canonical JSON (sorted keys, no spaces) of what the credentials are bound to."""
    canonical = json.dumps(
        [channel, name, dict(options)], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal(
    cipher: Fernet | MultiFernet,
    channel: str,
    name: str,
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
) -> str:
    """The token stored in ``accounts.credentials``: the credentials and their options' digest."""
    plain = {k: (v.reveal() if isinstance(v, Secret) else str(v)) for k, v in credentials.items()}
    body = [_FORMAT, options_digest(channel, name, options), plain]
    return cipher.encrypt(json.dumps(body).encode()).decode()


def open_sealed(
    cipher: Fernet | MultiFernet, channel: str, name: str, token: str, options: Mapping[str, Any]
) -> Opened:
    """The credentials, and whether ``options`` are those sealed with them."""
    try:
        body: Any = json.loads(cipher.decrypt(token.encode()))
    except InvalidToken:
        raise AccountError(
            f"credentials of {channel}/{name} do not decrypt with any key in LOA_CREDENTIALS_KEY "
            "(the key changed? during a rotation, list the new key first and keep the old one after it)"
        ) from None
    if isinstance(body, dict):  # written before options were sealed
        return Opened({k: Secret(v) for k, v in body.items()}, sealed=False, legacy=True)
    _, digest, plain = body
    sealed = digest == options_digest(channel, name, options)
    return Opened({k: Secret(v) for k, v in plain.items()}, sealed=sealed, legacy=False)


def seal_for_transit(
    cipher: Fernet | MultiFernet, channel: str, name: str, credentials: Mapping[str, str]
) -> str:
    """Credentials for an ``account.set`` command: encrypted, and bound to the account they are for
    (a token copied into another account's command does not open)."""
    return cipher.encrypt(json.dumps([_TRANSIT, channel, name, dict(credentials)]).encode()).decode()


def open_from_transit(cipher: Fernet | MultiFernet, channel: str, name: str, token: str) -> dict[str, str]:
    """The credentials of an ``account.set`` command; ``AccountError`` if they are not for this account."""
    try:
        form, for_channel, for_name, plain = json.loads(cipher.decrypt(token.encode()))
    except (InvalidToken, ValueError):
        raise AccountError(
            f"account.set {channel}/{name}: the credentials do not decrypt with LOA_CREDENTIALS_KEY"
        ) from None
    if form != _TRANSIT or (for_channel, for_name) != (channel, name):
        raise AccountError(f"account.set {channel}/{name}: the credentials were sealed for another account")
    return {str(k): str(v) for k, v in plain.items()}
