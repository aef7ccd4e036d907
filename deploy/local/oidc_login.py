"""The development OIDC provider's login and consent app (Ory Hydra delegates both to an app).

Hydra (deploy/local/oidc.sh) runs the OpenID Connect protocol: authorization code + PKCE, signed ID
tokens, JWKS, end-session. It asks this app who the person is: the app shows a sign-in form, checks
the password of one of the development people of ``oidc_people.json`` (passwords generated into
.env.local, never committed), and tells Hydra the person's subject and the claims of the ID token
(``email``, ``name``, ``groups``). Flow and admin API: https://www.ory.sh/docs/hydra/guides/custom-ui-oauth2
and https://www.ory.sh/docs/hydra/reference/api (``/admin/oauth2/auth/requests/...``).

Standard library only: the stack scripts run it with the machine's python3, before any venv.

    python3 oidc_login.py                     serve on 127.0.0.1:$LOA_OIDC_LOGIN_PORT (5557)
    python3 oidc_login.py password-keys       the .env.local keys of the people's passwords
    python3 oidc_login.py register ADMIN_URL CLIENT_ID TRACKER_URL    (re)register the tracker
"""

from __future__ import annotations

import hmac
import html
import json
import os
import re
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
PEOPLE_FILE = HERE / "oidc_people.json"
ENV_FILE = Path(os.environ.get("LOA_ENV_FILE", HERE.parent.parent / ".env.local"))
SCOPES = "openid email profile groups"


def password_key(username: str) -> str:
    """The .env.local key holding a development person's password."""
    return "LOA_OIDC_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", username.upper())


def env_value(key: str) -> str:
    """The environment's value, else the last one in .env.local (as lib.sh's env_value)."""
    if os.environ.get(key):
        return os.environ[key]
    found = ""
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.partition("=")
            if sep and name == key:
                found = value
    return found


def people() -> dict[str, dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(PEOPLE_FILE.read_text(encoding="utf-8"))
    return {p["username"]: p for p in listed}


def check_password(username: str, password: str) -> dict[str, Any] | None:
    """The person if the password is theirs; compared in constant time, unknown names too."""
    person = people().get(username)
    expected = env_value(password_key(username)) if person else ""
    matches = hmac.compare_digest(password.encode(), (expected or "\0" * 24).encode())
    return person if person and expected and matches else None


def admin_call(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - local
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - Hydra's admin API, local
        raw = response.read()
    return json.loads(raw) if raw else {}


def register(admin_url: str, client_id: str, tracker_url: str, secret: str | None = None) -> None:
    """(Re)register a confidential web client whose only redirect is the tracker's callback."""
    client = {
        "client_id": client_id,
        "client_secret": secret if secret is not None else env_value("LOA_OIDC_CLIENT_SECRET"),
        "client_name": "Loa tracker",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "scope": SCOPES,
        "redirect_uris": [f"{tracker_url}/auth/callback"],
        "post_logout_redirect_uris": [f"{tracker_url}/login"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    try:
        admin_call("DELETE", f"{admin_url}/admin/clients/{client_id}")
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
    admin_call("POST", f"{admin_url}/admin/clients", client)


PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Đăng nhập — nhà cung cấp định danh (phát triển)</title>
<style>body{{font-family:system-ui,sans-serif;background:#eef2f6;margin:0}}
main{{max-width:380px;margin:8vh auto;background:#fff;padding:28px;border-radius:10px;
box-shadow:0 2px 10px #0002}} h1{{font-size:1.25rem}} label{{display:block;margin-top:12px}}
input{{width:100%;padding:8px;box-sizing:border-box}}
button{{margin-top:18px;padding:9px 18px;background:#0b5cad;color:#fff;border:0;border-radius:6px}}
.error{{color:#b00020}} .note{{color:#555;font-size:.85rem}}</style></head>
<body><main><h1>Đăng nhập một lần (SSO)</h1>
<p class="note">Nhà cung cấp OpenID Connect của môi trường phát triển: {client}</p>{error}
<form method="post" action="/login"><input type="hidden" name="challenge" value="{challenge}">
<label for="username">Tên đăng nhập</label>
<input id="username" name="username" autocomplete="username" autofocus>
<label for="password">Mật khẩu</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button id="accept" type="submit">Đăng nhập</button></form></main></body></html>"""


class Handler(BaseHTTPRequestHandler):
    admin_url = os.environ.get("LOA_OIDC_ADMIN_URL", "http://127.0.0.1:5558")

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("oidc-login: " + (format % args) + "\n")  # paths only: no form field

    def _send(self, status: int, body: str = "", location: str | None = None) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body.encode())

    def _requests(self, kind: str, challenge: str, action: str = "") -> str:
        path = f"/admin/oauth2/auth/requests/{kind}{'/' + action if action else ''}"
        return f"{self.admin_url}{path}?{urlencode({f'{kind}_challenge': challenge})}"

    def _form(self, challenge: str, error: str = "", status: int = 200) -> None:
        login = admin_call("GET", self._requests("login", challenge))
        client = html.escape(login.get("client", {}).get("client_name") or "")
        shown = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        self._send(status, PAGE.format(client=client, error=shown, challenge=html.escape(challenge)))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            if url.path == "/healthz":
                self._send(200, "ok")
            elif url.path == "/login" and "login_challenge" in query:
                self._form(query["login_challenge"])
            elif url.path == "/consent" and "consent_challenge" in query:
                self._consent(query["consent_challenge"])
            elif url.path == "/logout" and "logout_challenge" in query:
                done = admin_call("PUT", self._requests("logout", query["logout_challenge"], "accept"))
                self._send(303, location=done["redirect_to"])
            else:
                self._send(404, "not found")
        except urllib.error.HTTPError as e:
            self._send(400 if e.code in (404, 410) else 502, "this sign-in request is unknown or expired")

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 4096)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        challenge = form.get("challenge", "")
        if urlsplit(self.path).path != "/login" or not challenge:
            self._send(400, "a sign-in form needs its challenge")
            return
        try:
            person = check_password(form.get("username", "").strip(), form.get("password", ""))
            if person is None:
                self._form(challenge, "Sai tên đăng nhập hoặc mật khẩu.", 401)
                return
            accepted = admin_call(
                "PUT", self._requests("login", challenge, "accept"), {"subject": person["username"]}
            )
            self._send(303, location=accepted["redirect_to"])
        except urllib.error.HTTPError:
            self._send(400, "this sign-in request is unknown or expired")

    def _consent(self, challenge: str) -> None:
        """Loa is a first-party client: consent is given, with the person's claims in the ID token."""
        consent = admin_call("GET", self._requests("consent", challenge))
        person = people()[consent["subject"]]
        accepted = admin_call(
            "PUT",
            self._requests("consent", challenge, "accept"),
            {
                "grant_scope": consent["requested_scope"],
                "grant_access_token_audience": consent["requested_access_token_audience"],
                "session": {
                    "id_token": {
                        "email": person["email"],
                        "email_verified": True,
                        "name": person["name"],
                        "groups": person["groups"],
                    }
                },
            },
        )
        self._send(303, location=accepted["redirect_to"])


def main(argv: list[str]) -> None:
    if argv[:1] == ["password-keys"]:
        print("\n".join(password_key(name) for name in people()))
    elif argv[:1] == ["register"] and len(argv) == 4:
        register(argv[1], argv[2], argv[3])
    elif not argv:
        port = int(os.environ.get("LOA_OIDC_LOGIN_PORT", "5557"))
        host = os.environ.get("LOA_OIDC_LOGIN_HOST", "127.0.0.1")  # 0.0.0.0 only in a container
        ThreadingHTTPServer((host, port), Handler).serve_forever()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
