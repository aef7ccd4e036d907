"""X's OAuth 2.0 Authorization Code Flow with PKCE, the part Connect uses
(docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code and
…/oauth-2-0/user-access-token):

- ``GET https://twitter.com/i/oauth2/authorize?response_type=code&client_id=&redirect_uri=&scope=
  &state=&code_challenge=&code_challenge_method=S256`` → back to ``redirect_uri`` with ``state``
  and ``code`` (valid 30 seconds), or ``error=access_denied`` when the person cancels;
- ``POST https://api.twitter.com/2/oauth2/token`` (a confidential client: HTTP Basic
  ``client_id:client_secret``) with ``code``, ``grant_type=authorization_code``, ``redirect_uri``,
  ``code_verifier`` → ``token_type``, ``expires_in`` (7200), ``access_token``, ``scope``,
  ``refresh_token`` (with ``offline.access``); a bad code is 400 ``invalid_request``.

``POST /x/_oauth2_clients`` declares a client and the user who consents to it.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import FormData

from services.sandbox import x
from services.sandbox.frame import sandbox
from services.sandbox.oauth_consent import back_to, codes

CODE_TTL = timedelta(seconds=30)
""""the authorization code … is valid for 30 seconds" (X's Authorization Code Flow page)."""
router = APIRouter(prefix="/x", tags=["X API v2 emulator"])


class ClientIn(BaseModel):
    client_id: str
    client_secret: str
    user_id: str
    username: str


@router.post("/_oauth2_clients")
def add_client(body: ClientIn) -> dict[str, str]:
    """Sandbox control: an OAuth 2.0 app (confidential client) and the user who authorises it."""
    x.state.clients[body.client_id] = body.client_secret
    x.state.consenting[body.client_id] = x.XUser(body.user_id, body.username, "", "", "", "")
    return {"client_id": body.client_id}


@router.get("/i/oauth2/authorize")
async def authorize(
    request: Request,
    client_id: str,
    redirect_uri: str,
    response_type: str = "code",
    scope: str = "",
    state: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "plain",
) -> Response:
    await sandbox.enter(x.PLATFORM, request.url.path)
    user = x.state.consenting.get(client_id)
    if user is None or response_type != "code" or code_challenge_method != "S256":
        # X shows the person "Something went wrong" and does not redirect
        return JSONResponse({"error": "invalid_request", "error_description": "client_id"}, status_code=400)
    if codes(x.PLATFORM).denied():
        return back_to(redirect_uri, error="access_denied", state=state)
    sandbox.record(x.PLATFORM, "consent", {"client_id": client_id, "scope": scope})
    code = codes(x.PLATFORM).issue(client_id, redirect_uri, code_challenge, user.id, CODE_TTL)
    return back_to(redirect_uri, state=state, code=code)


def exchange_code(form: FormData, client_id: str) -> Response:
    """Step 3, for a client already authenticated by ``x.oauth2_token``."""
    grant = codes(x.PLATFORM).redeem(
        str(form.get("code", "")),
        client_id,
        verifier=str(form.get("code_verifier", "")),
        redirect_uri=str(form.get("redirect_uri", "")),
    )
    user = x.state.consenting.get(client_id)
    if isinstance(grant, str) or user is None or user.id != grant.subject:
        return JSONResponse(
            {
                "error": "invalid_request",
                "error_description": "Value passed for the authorization code was invalid.",
            },
            status_code=400,
        )
    sandbox.record(x.PLATFORM, "authorized", {"client_id": client_id, "user": user.id})
    return JSONResponse(x.issue_pair(user, client_id))
