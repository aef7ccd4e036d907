"""Facebook Login for a Page's token, as Meta documents it (the Graph API emulator's Pages):

- the Login dialog, ``GET https://www.facebook.com/{version}/dialog/oauth?client_id=&redirect_uri=
  &state=&scope=`` → back to ``redirect_uri`` with ``code`` and ``state``; a person who cancels comes
  back with ``error=access_denied&error_code=200&error_description=Permissions+error
  &error_reason=user_denied`` ("Manually Build a Login Flow",
  https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow);
- the code for a User access token, ``GET graph.facebook.com/{version}/oauth/access_token?client_id=
  &redirect_uri=&client_secret=&code=`` → ``{"access_token", "token_type", "expires_in"}`` (same
  page); errors are Graph's error object (code 100 for a bad code, subcode 36008 for another
  redirect_uri, 36009 for a used code; code 1 "Error validating client secret.");
- a long-lived User token, ``grant_type=fb_exchange_token&fb_exchange_token=`` → about 60 days
  ("Long-Lived Access Tokens", https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived);
- ``GET /{version}/me/accounts`` → the Pages the person manages, each with its Page access token;
  from a long-lived User token it "has no expiration date" (same page; "Page Access Tokens",
  https://developers.facebook.com/docs/pages-api/getting-started).

Served under ``/facebook`` (the dialog, www.facebook.com's stand-in) and ``/graph``.
``POST /graph/_sandbox/apps`` declares an app, its secret and the Pages its consenting person
manages (Pages of the Graph emulator: their token is the one the publisher posts with).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.sandbox.facebook import GraphError, error_answer, params_of
from services.sandbox.facebook import state as graph_state
from services.sandbox.frame import sandbox
from services.sandbox.oauth_consent import back_to, codes

PLATFORM = "facebook"
SHORT_LIVED_S = 2 * 3600
LONG_LIVED_S = 60 * 24 * 3600
router = APIRouter(tags=["facebook login"])


@dataclass
class LoginApp:
    secret: str
    page_ids: list[str]


@dataclass
class UserToken:
    app_id: str
    page_ids: list[str]
    long_lived: bool


@dataclass
class LoginState:
    apps: dict[str, LoginApp] = field(default_factory=dict)
    tokens: dict[str, UserToken] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)


login = LoginState()


class AppIn(BaseModel):
    app_id: str
    app_secret: str
    page_ids: list[str]


@router.post("/graph/_sandbox/apps")
def add_app(app: AppIn) -> dict[str, str]:
    """Sandbox control: a Facebook app, and the Pages the person who consents to it manages."""
    login.apps[app.app_id] = LoginApp(app.app_secret, app.page_ids)
    return {"app_id": app.app_id}


@router.get("/facebook/{version}/dialog/oauth")
async def dialog(
    request: Request,
    version: str,
    client_id: str,
    redirect_uri: str,
    state: str = "",
    scope: str = "",
    response_type: str = "code",
) -> Response:
    """The Login dialog: grants at once, or answers as a person who clicked "Cancel"."""
    await sandbox.enter(PLATFORM, request.url.path)
    app = login.apps.get(client_id)
    if app is None or response_type != "code":
        # Facebook shows the person an error page, "Invalid App ID", and never redirects
        return JSONResponse(
            {"error": {"message": "Invalid App ID", "type": "OAuthException", "code": 101}}, 400
        )
    if codes(PLATFORM).denied():
        return back_to(
            redirect_uri,
            error="access_denied",
            error_code="200",
            error_description="Permissions error",
            error_reason="user_denied",
            state=state,
        )
    sandbox.record(PLATFORM, "login_dialog", {"app_id": client_id, "scope": scope})
    return back_to(
        redirect_uri, code=codes(PLATFORM).issue(client_id, redirect_uri, "", client_id), state=state
    )


@router.api_route("/graph/{version}/oauth/access_token", methods=["GET", "POST"])
async def access_token(request: Request, version: str) -> Response:
    """A code for a short-lived User token, or (``fb_exchange_token``) a short for a long-lived one.
    Graph takes the parameters in the query (as the docs show) or in a POST form alike."""
    await sandbox.enter(PLATFORM, request.url.path)
    params, _ = await params_of(request)
    client_id, client_secret = params.get("client_id", ""), params.get("client_secret", "")
    code, grant_type = params.get("code", ""), params.get("grant_type", "")
    fb_exchange_token, redirect_uri = params.get("fb_exchange_token", ""), params.get("redirect_uri", "")
    app = login.apps.get(client_id)
    if app is None or not secrets.compare_digest(app.secret, client_secret):
        return error_answer(GraphError(1, "Error validating client secret."))
    if grant_type == "fb_exchange_token":
        short = login.tokens.get(fb_exchange_token)
        if short is None or short.app_id != client_id:
            return error_answer(GraphError(190, "Invalid OAuth access token - Cannot parse access token"))
        return _issue(UserToken(client_id, short.page_ids, long_lived=True))
    if code in login.used_codes:
        return error_answer(GraphError(100, "This authorization code has been used.", subcode=36009))
    grant = codes(PLATFORM).redeem(code, client_id, verifier=None, redirect_uri=redirect_uri)
    if grant == "redirect_uri":
        message = (
            "Error validating verification code. Please make sure your redirect_uri is identical to the "
            "one you used in the OAuth dialog request"
        )
        return error_answer(GraphError(100, message, subcode=36008))
    if isinstance(grant, str):
        return error_answer(GraphError(100, "Invalid verification code format."))
    login.used_codes.add(code)
    return _issue(UserToken(client_id, app.page_ids, long_lived=False))


def _issue(user: UserToken) -> Response:
    token = secrets.token_urlsafe(32)
    login.tokens[token] = user
    expires = LONG_LIVED_S if user.long_lived else SHORT_LIVED_S
    return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": expires})


@router.get("/graph/{version}/me/accounts")
async def me_accounts(request: Request, version: str) -> Response:
    """The Pages this person manages, each with its Page access token."""
    await sandbox.enter(PLATFORM, request.url.path)
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2] if header.lower().startswith(("oauth ", "bearer ")) else ""
    user = login.tokens.get(token or request.query_params.get("access_token", ""))
    if user is None:
        return error_answer(GraphError(190, "Invalid OAuth access token - Cannot parse access token"))
    pages = graph_state().pages
    data = [
        {
            "access_token": pages[p].token,
            "category": "Government organization",
            "name": pages[p].name,
            "id": p,
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
        }
        for p in user.page_ids
        if p in pages
    ]
    return JSONResponse({"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}})


sandbox.on_reset(lambda: login.__init__())  # type: ignore[misc]
