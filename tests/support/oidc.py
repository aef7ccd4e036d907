"""The local stack's OpenID Connect provider (deploy/local/oidc.sh: Ory Hydra) for sign-in tests.

Each test registers a client of its own at the provider's admin API, with the callback of the
tracker it started (the provider accepts only a registered redirect URI, exactly).
"""

from __future__ import annotations

import secrets
import socket
import subprocess
from dataclasses import dataclass

import pytest

from deploy.local import oidc_login
from loa.settings import REPO_ROOT

ISSUER = "http://127.0.0.1:5556/"
ADMIN_URL = "http://127.0.0.1:5558"
OIDC_SH = REPO_ROOT / "deploy" / "local" / "oidc.sh"


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str

    def settings(self) -> dict[str, str]:
        return {"oidc_issuer": ISSUER, "oidc_client_id": self.client_id, "oidc_client_secret": self.secret}

    def register(self, tracker_url: str) -> None:
        oidc_login.register(ADMIN_URL, self.client_id, tracker_url, self.secret)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def oidc_provider() -> None:
    """The provider and its sign-in page, started by the stack script unless they already run."""
    if not (_listening(5556) and _listening(5557) and _listening(5558)):
        subprocess.run(["bash", str(OIDC_SH), "up"], check=True, cwd=REPO_ROOT)


@pytest.fixture
def oidc_client(oidc_provider: None) -> Client:
    return Client(f"loa-test-{secrets.token_hex(6)}", secrets.token_urlsafe(32))


def password(username: str) -> str:
    """A development person's generated password (.env.local)."""
    found = oidc_login.env_value(oidc_login.password_key(username))
    assert found, f"no password for {username} in .env.local: run deploy/local/oidc.sh up"
    return found
