"""Google's OAuth 2.0 for web server applications, the part YouTube's Connect uses
("Using OAuth 2.0 for Web Server Applications", https://developers.google.com/identity/protocols/oauth2/web-server):

- ``GET https://accounts.google.com/o/oauth2/v2/auth?client_id=&redirect_uri=&response_type=code
  &scope=&access_type=offline&prompt=consent&state=&code_challenge=&code_challenge_method=S256``
  → back to ``redirect_uri`` with ``code`` and ``state``, or ``error=access_denied`` when the
  person refuses (step 5, "Handle the OAuth 2.0 server response");
- ``POST https://oauth2.googleapis.com/token`` with ``grant_type=authorization_code``, ``code``,
  ``client_id``, ``client_secret``, ``redirect_uri``, ``code_verifier`` → ``access_token``,
  ``expires_in`` (3599), ``refresh_token`` (with ``access_type=offline``), ``scope``,
  ``token_type``; a bad code is 400 ``invalid_grant`` "Bad Request", a bad client 401
  ``invalid_client`` (step 6, "Exchange authorization code for refresh and access tokens").

An unknown ``client_id`` at the consent screen gets Google's "Error 401: invalid_client" page, not
a redirect. The refresh token stands for one channel (``youtube_state.channel_of``).
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import FormData

from services.sandbox.frame import sandbox
from services.sandbox.oauth_consent import back_to, codes
from services.sandbox.youtube_state import state

PLATFORM = "youtube"
router = APIRouter(tags=["youtube"])
_clients: dict[str, str] = {}


class ClientIn(BaseModel):
    client_id: str
    client_secret: str


@router.post("/_sandbox/youtube/clients")
def add_client(client: ClientIn) -> dict[str, str]:
    """Sandbox control: an OAuth client of the office's Google Cloud project."""
    _clients[client.client_id] = client.client_secret
    return {"client_id": client.client_id}


@router.get("/o/oauth2/v2/auth")
async def authorize(
    request: Request,
    client_id: str,
    redirect_uri: str,
    response_type: str = "code",
    scope: str = "",
    state: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "plain",
    access_type: str = "online",
) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    if client_id not in _clients or response_type != "code":
        return JSONResponse(
            {"error": "invalid_client", "error_description": "The OAuth client was not found."}, 401
        )
    if not code_challenge or code_challenge_method != "S256":
        return back_to(
            redirect_uri, error="invalid_request", error_description="code_challenge_method", state=state
        )
    if codes(PLATFORM).denied():
        return back_to(redirect_uri, error="access_denied", state=state)
    sandbox.record(PLATFORM, "consent", {"client_id": client_id, "scope": scope, "access_type": access_type})
    return back_to(
        redirect_uri,
        code=codes(PLATFORM).issue(client_id, redirect_uri, code_challenge, access_type),
        state=state,
    )


def exchange_code(form: FormData) -> Response:
    """The ``authorization_code`` grant of the token endpoint (``youtube.token`` hands it over)."""
    client_id = str(form.get("client_id", ""))
    secret = _clients.get(client_id)
    if secret is None or not secrets.compare_digest(secret, str(form.get("client_secret", ""))):
        return JSONResponse({"error": "invalid_client", "error_description": "Unauthorized"}, status_code=401)
    grant = codes(PLATFORM).redeem(
        str(form.get("code", "")),
        client_id,
        verifier=str(form.get("code_verifier", "")),
        redirect_uri=str(form.get("redirect_uri", "")),
    )
    if isinstance(grant, str):
        return JSONResponse({"error": "invalid_grant", "error_description": "Bad Request"}, status_code=400)
    body = {
        "access_token": "",
        "expires_in": 3599,
        "scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube",
        "token_type": "Bearer",
    }
    if grant.subject == "offline":
        refresh = "1//" + secrets.token_urlsafe(40)
        body |= {"access_token": state().issue_token(refresh), "refresh_token": refresh}
    else:
        body["access_token"] = state().issue_token("online-" + secrets.token_urlsafe(16))
    sandbox.record(PLATFORM, "authorized", {"client_id": client_id})
    return JSONResponse(body)


sandbox.on_reset(_clients.clear)
