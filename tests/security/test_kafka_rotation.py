"""Rotating a principal's SCRAM password (``stack.sh rotate-kafka-password``): the broker refuses
the old password at once and accepts the new one, which ``.env.local`` keeps (mode 0600, through a
symlink, every other line unchanged); a credential the broker refuses changes nothing.

Runs against the secured local stack as the harness's admin, on a throwaway principal of its own
(rotating a service's would sign out the shared stack's services); the principal is deleted after.
"""

from __future__ import annotations

import secrets
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dotenv import dotenv_values
from pydantic import SecretStr

from deploy.local.kafka_principals import AlterScram, admin_client, sign_in
from deploy.local.kafka_rotate import rotate, set_password
from loa.settings import LoaSettings
from tests.conftest import Stack

pytestmark = pytest.mark.integration
KEY = "LOA_KAFKA_PASSWORD_XOAY_VONG"


def _as(stack: Stack, user: str, password: str) -> LoaSettings:
    return LoaSettings(
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_sasl_username=user,
        kafka_sasl_password=SecretStr(password),
    )


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
async def principal(stack: Stack) -> AsyncIterator[tuple[str, str]]:
    """A throwaway SCRAM principal with a first password; deleted after the test."""
    user, password = f"loa-xoay-vong-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(24)
    admin = LoaSettings(kafka_bootstrap=stack.kafka_bootstrap)
    await set_password(admin, user, password)
    yield user, password
    client = await admin_client(admin)
    try:
        await client._send_request(AlterScram({}, deletions=(user,)))
    finally:
        await client.close()


async def test_old_password_refused_new_one_kept_and_accepted(
    stack: Stack, tmp_path: Path, principal: tuple[str, str]
) -> None:
    user, old = principal
    await sign_in(_as(stack, user, old))  # the first password works before the rotation
    real = tmp_path / "env.local"
    real.write_text(f"LOA_MODE=development\n{KEY}={old}\nLOA_OIDC_ISSUER=http://127.0.0.1:5556/\n")
    real.chmod(0o600)
    link = tmp_path / ".env.local"
    link.symlink_to(real)

    await rotate(LoaSettings(kafka_bootstrap=stack.kafka_bootstrap), user, KEY, link)

    new = dotenv_values(real)[KEY]
    assert new and new != old and len(new) >= 40
    assert dotenv_values(real) == {
        "LOA_MODE": "development",
        KEY: new,
        "LOA_OIDC_ISSUER": "http://127.0.0.1:5556/",
    }
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert _files(tmp_path) == [".env.local", "env.local"]  # no staged copy left
    with pytest.raises(PermissionError, match=user):
        await sign_in(_as(stack, user, old))
    await sign_in(_as(stack, user, new))


async def test_a_refused_credential_changes_nothing(stack: Stack, tmp_path: Path) -> None:
    """An empty user name: the broker refuses the credential (UNACCEPTABLE_CREDENTIAL)."""
    env_file = tmp_path / ".env.local"
    env_file.write_text(f"{KEY}=cu\n")
    with pytest.raises(RuntimeError, match="refused the new credential"):
        await rotate(LoaSettings(kafka_bootstrap=stack.kafka_bootstrap), "", KEY, env_file)
    assert env_file.read_text() == f"{KEY}=cu\n"
    assert _files(tmp_path) == [".env.local"]
