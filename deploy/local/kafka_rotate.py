"""Rotate a service principal's SCRAM password: ``bash deploy/local/stack.sh rotate-kafka-password SERVICE``.

A new random password (32 bytes, URL-safe) is written to a copy of ``.env.local`` made with mode
0600; the broker is given the new SCRAM-SHA-512 credential through the admin client
(AlterUserScramCredentials, KIP-554), signed in with the admin's static credential; only then does
the copy replace ``.env.local`` (a rename: the file holds the old password or the new one, never
neither). The old password is refused from then on; connections already signed in stay open until
they close (SCRAM is checked at connection time), so restart the service now: ``make run``'s
supervisor and every start read the password from ``.env.local`` again. The stack's setup sets
every service's credential from ``.env.local`` at each Kafka start, so the new one survives it.
Never prints a secret.
Usage: ``python kafka_rotate.py SERVICE 127.0.0.1:9092 <cache>/tls/ca.pem``
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path

from deploy.local.kafka_principals import AlterScram, admin_client, admin_settings, error_lines, stack_env
from loa.kafka_acl import USERS, user_of
from loa.settings import ENV_FILE, LoaSettings


def staged_env_file(file: Path, key: str, value: str) -> tuple[Path, Path]:
    """A copy of ``file`` (0600 from its creation, beside the file a symlink points to) with
    ``key=value`` instead of ``key``'s line, or appended; returns it and the file it replaces."""
    target = file.resolve()
    lines = target.read_text(encoding="utf-8").splitlines() if target.is_file() else []
    kept = [line for line in lines if not line.startswith(f"{key}=")]
    staged = target.with_name(f".{target.name}.rotating")
    staged.unlink(missing_ok=True)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join([*kept, f"{key}={value}"]) + "\n")
    return staged, target


def _discard(staged: Path) -> None:
    staged.unlink(missing_ok=True)


def _install(staged: Path, target: Path) -> None:
    staged.replace(target)  # a rename: atomic on one file system


async def set_password(admin: LoaSettings, user: str, password: str) -> None:
    """Give ``user`` the SCRAM-SHA-512 credential of ``password`` (created or replaced)."""
    client = await admin_client(admin)
    try:
        answer = await client._send_request(AlterScram({user: password}))
    finally:
        await client.close()
    failures = error_lines([(code, msg) for _user, code, msg, _tags in answer.results])
    if failures:
        raise RuntimeError(f"the broker refused the new credential of {user}: {'; '.join(failures)}")


async def rotate(admin: LoaSettings, user: str, password_key: str, env_file: Path) -> None:
    """New password for ``user``, kept as ``password_key`` in ``env_file`` once the broker has it."""
    password = secrets.token_urlsafe(32)
    staged, target = staged_env_file(env_file, password_key, password)
    try:
        await set_password(admin, user, password)
    except BaseException:
        _discard(staged)
        raise
    _install(staged, target)


def main(argv: list[str]) -> int:
    user = user_of(argv[0]) if len(argv) == 3 else None
    if user is None:
        services = ", ".join(u.service for u in USERS)
        sys.stderr.write(f"usage: kafka_rotate.py SERVICE BOOTSTRAP CAFILE (SERVICE: one of {services})\n")
        return 2
    env_file = Path(os.environ.get("LOA_ENV_FILE", ENV_FILE))
    admin = admin_settings(argv[1], Path(argv[2]), stack_env())
    try:
        asyncio.run(rotate(admin, user.name, user.password_key, env_file))
    except (PermissionError, RuntimeError) as e:
        sys.stderr.write(f"[kafka] error: {e}; the password was not changed\n")
        return 1
    sys.stdout.write(
        f"[kafka] new password of {user.name} set on the broker and kept as {user.password_key} in "
        f"{env_file}; restart the {user.service} service (its open connections keep the old sign-in)\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
