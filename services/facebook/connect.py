"""Connect a Facebook Page (Facebook Login, then the Page's own token), run by
``services.tracker.connect``; each step as Meta documents it:

1. the Login dialog, ``https://www.facebook.com/{version}/dialog/oauth?client_id=&redirect_uri=
   &state=&scope=&response_type=code`` ("Manually Build a Login Flow",
   https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow); the manual
   flow has no PKCE: the code opens only with the app secret, which stays on the server;
2. the code for a User access token, ``/{version}/oauth/access_token`` (``client_id``,
   ``redirect_uri``, ``client_secret``, ``code``; same page), sent as a POST form so that no secret
   sits in a URL;
3. a long-lived User token, ``grant_type=fb_exchange_token`` ("Get Long-Lived Tokens",
   https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived);
4. ``/{version}/me/accounts``: the Pages the person manages and their Page access tokens; from a
   long-lived User token a Page token "has no expiration date" (same page).

The scopes are those the publisher's calls need: ``pages_manage_posts`` (feed, photos, videos),
``pages_read_engagement`` (read back posts and comments), ``pages_show_list`` (``me/accounts``).
The publisher gets the Page token alone; the app secret never leaves the tracker.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from services.tracker.connect_flow import (
    AppSecret,
    Back,
    Choice,
    Connected,
    ConnectError,
    ConnectRequest,
    Start,
    platform_json,
)
from services.tracker.settings import TrackerSettings

SCOPES = ("pages_manage_posts", "pages_read_engagement", "pages_show_list")
NumericId = Annotated[str, Field(pattern=r"^[0-9]{1,32}$")]


class FacebookConnect(ConnectRequest):
    app_id: Annotated[NumericId, Field(description="the office's Facebook app id")]
    app_secret: AppSecret
    page_id: Annotated[
        NumericId | None,
        Field(description="the Page this account is; may be left out when the person manages one Page"),
    ] = None


class FacebookFlow:
    channel: ClassVar[str] = "facebook"
    request_model: ClassVar[type[ConnectRequest]] = FacebookConnect

    def authorize_url(self, settings: TrackerSettings, body: FacebookConnect, start: Start) -> str:
        query = start.code_request(body.app_id, ",".join(SCOPES), pkce=False)
        base = settings.facebook_dialog_url.rstrip("/")
        return f"{base}/{settings.facebook_graph_version}/dialog/oauth?{query}"

    async def finish(
        self, settings: TrackerSettings, body: FacebookConnect, back: Back
    ) -> Connected | Choice:
        """The Page asked for, the person's only Page, or a choice among their Pages."""
        app = {"client_id": body.app_id, "client_secret": body.app_secret.get_secret_value()}
        short = await _token(settings, app | {"redirect_uri": back.redirect_uri, "code": back.code})
        long = await _token(settings, app | {"grant_type": "fb_exchange_token", "fb_exchange_token": short})
        pages = {str(p["id"]): p for p in await _pages(settings, long)}
        if body.page_id is not None:
            if body.page_id not in pages:
                managed = ", ".join(f"{p.get('name', '')} ({i})" for i, p in pages.items()) or "none"
                raise ConnectError(
                    f"page_id: Page {body.page_id} is not among this person's Pages: {managed}"
                )
            return _connected(pages[body.page_id])
        if not pages:
            raise ConnectError("Facebook lists no Page this person manages (pages_show_list)")
        if len(pages) == 1:
            return _connected(next(iter(pages.values())))
        return Choice({i: str(p.get("name", i)) for i, p in pages.items()}, lambda i: _connected(pages[i]))


def _connected(page: dict[str, Any]) -> Connected:
    token = {"page_access_token": str(page["access_token"])}
    return Connected(token, {"page_id": str(page["id"])}, None, f"Page {page.get('name', '')} ({page['id']})")


def _graph(settings: TrackerSettings, path: str) -> str:
    return f"{settings.facebook_graph_url.rstrip('/')}/{settings.facebook_graph_version}/{path}"


async def _token(settings: TrackerSettings, form: dict[str, str]) -> str:
    status, data = await platform_json("Facebook", "POST", _graph(settings, "oauth/access_token"), data=form)
    if status != 200 or not data.get("access_token"):
        raise _refused(data, "the code")
    return str(data["access_token"])


async def _pages(settings: TrackerSettings, user_token: str) -> list[dict[str, Any]]:
    status, data = await platform_json(
        "Facebook",
        "GET",
        _graph(settings, "me/accounts"),
        params={"fields": "id,name,access_token,tasks"},
        headers={"Authorization": f"OAuth {user_token}"},
    )
    if status != 200 or not isinstance(data.get("data"), list):
        raise _refused(data, "the list of Pages")
    return [p for p in data["data"] if isinstance(p, dict) and p.get("id") and p.get("access_token")]


def _refused(data: dict[str, Any], what: str) -> ConnectError:
    """Graph's error object (code, subcode, message) as one line."""
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = error.get("code", "?")
    subcode = f"/{error['error_subcode']}" if error.get("error_subcode") else ""
    return ConnectError(
        f"Facebook refused {what}: {str(error.get('message', 'no token'))[:200]} ({code}{subcode})"
    )
