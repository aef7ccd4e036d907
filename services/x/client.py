"""One tweepy client per X account, its calls off the event loop, and its rate-limit budget.

tweepy, requests and OAuthLib are loaded by the first client made, not with the adapter: the ingest
makes adapters to render previews and never calls X (``tests/unit/test_service_imports.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loa.channels import Account, AuthError, TransientError
from loa.channels.in_doubt import creates, transport_error
from services.x import errors
from services.x.oauth2 import ACCESS, TokenRejectedError, uses_oauth2

if TYPE_CHECKING:
    import requests

API_HOST = "https://api.twitter.com"
_ID = re.compile(r"/\d+")

# At DEBUG these log what must never be logged: oauthlib/requests_oauthlib the consumer key and
# access token they sign with, tweepy the request headers (a Bearer token with OAuth 2.0).
for _name in ("oauthlib", "requests_oauthlib", "tweepy"):
    logging.getLogger(_name).setLevel(logging.INFO)


class XClient:
    """tweepy's ``Client`` (API v2) for posts; its session and OAuth 1.0a signer for media."""

    def __init__(self, account: Account, base_url: str, timeout: float = 30.0) -> None:
        import requests
        import tweepy

        from services.x.transport import route

        self.bearer: str | None = None
        self._keys: dict[str, str] = {}
        if uses_oauth2(account):  # OAuth 2.0 user token: Bearer user auth for every call
            self.bearer = account.secret(ACCESS)
            self.client = tweepy.Client(bearer_token=self.bearer, return_type=requests.Response)
        else:  # OAuth 1.0a user context
            keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
            missing = [k for k in keys if k not in account.credentials]
            if missing:
                raise AuthError(f"X account {account.name} lacks credentials: {', '.join(missing)}")
            self._keys = {k: account.secret(k) for k in keys}
            self.client = tweepy.Client(**self._keys, return_type=requests.Response)
        route(self.client.session, base_url, timeout)
        self.blocked_until: dict[str, datetime] = {}
        """Per endpoint (``POST /2/tweets``...): no call before this time, its window is spent."""
        self._user_id: str | None = None

    def _refused(self, response: requests.Response) -> Exception:
        """X's error for ``response``; a 401 to an OAuth 2.0 token means: refresh it and retry once."""
        error = errors.to_error(response)
        if self.bearer is not None and response.status_code == 401:
            return TokenRejectedError(error.message, code=401, excerpt=error.excerpt)
        return error

    # -- plumbing -------------------------------------------------------------------------
    @staticmethod
    def _endpoint(method: str, route_: str) -> str:
        return f"{method} {_ID.sub('/:id', route_)}"

    def _remember_limits(self, endpoint: str, response: requests.Response) -> None:
        """Slow down before the limit: no call is made once a window is spent."""
        for prefix in ("x-rate-limit", "x-user-limit-24hour"):
            reset = errors.reset_time(response, f"{prefix}-reset")
            if response.headers.get(f"{prefix}-remaining") == "0" and reset is not None:
                self.blocked_until[endpoint] = max(reset, self.blocked_until.get(endpoint, reset))

    def _check_budget(self, endpoint: str) -> None:
        until = self.blocked_until.get(endpoint)
        if until is not None and until > datetime.now(UTC):
            raise TransientError(
                f"X rate-limit window of {endpoint} spent; waiting for its reset", code=429, retry_at=until
            )

    def _call(
        self,
        method: str,
        route_: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        endpoint = self._endpoint(method, route_)
        return self._send(
            endpoint,
            lambda: self.client.request(
                method, route_, params=params, json=json, user_auth=self.bearer is None
            ),
        )

    def _send(self, endpoint: str, request: Callable[[], requests.Response]) -> dict[str, Any]:
        """One SDK call under ``endpoint``'s rate-limit window: refused before the call once it is
        spent, its headers remembered after, X's errors mapped onto ours."""
        import requests
        from tweepy.errors import HTTPException

        self._check_budget(endpoint)
        try:
            response = request()
        except HTTPException as e:
            self._remember_limits(endpoint, e.response)
            raise self._refused(e.response) from e
        except requests.RequestException as e:
            message = f"X unreachable: {type(e).__name__}"  # endpoint: "METHOD /route" (_endpoint)
            raise transport_error(message, e, creates=creates(endpoint.partition(" ")[0])) from e
        self._remember_limits(endpoint, response)
        return errors.check(response)

    def _upload(
        self, route_: str, *, data: dict[str, Any], files: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        import requests
        import tweepy

        endpoint = self._endpoint("POST", route_)
        self._check_budget(endpoint)
        auth = None if self.bearer is not None else tweepy.OAuth1UserHandler(**self._keys).apply_auth()
        headers = {"Authorization": f"Bearer {self.bearer}"} if self.bearer is not None else {}
        try:
            response = self.client.session.post(
                API_HOST + route_, data=data, files=files, auth=auth, headers=headers, timeout=120
            )
        except requests.RequestException as e:
            # An upload creates no post: a media id nobody attaches expires (X media upload docs).
            raise transport_error(f"X media upload unreachable: {type(e).__name__}", e, creates=False) from e
        self._remember_limits(endpoint, response)
        if not 200 <= response.status_code < 300:
            raise self._refused(response)
        return errors.check(response)

    # -- blocking API -----------------------------------------------------------------------
    def user_id(self) -> str:
        if self._user_id is None:
            self._user_id = str(self._call("GET", "/2/users/me")["data"]["id"])
        return self._user_id

    def create(self, text: str, reply_to: str | None, media_ids: list[str], quote: str | None = None) -> str:
        """``POST /2/tweets``: ``reply.in_reply_to_tweet_id`` makes it a reply, ``quote_tweet_id`` a quote
        (docs.x.com/x-api/posts/create-post; tweepy's ``Client.create_tweet`` sends the same fields)."""
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        if quote:
            body["quote_tweet_id"] = quote
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        return str(self._call("POST", "/2/tweets", json=body)["data"]["id"])

    def delete(self, tweet_id: str) -> None:
        self._call("DELETE", f"/2/tweets/{tweet_id}")

    def recent(self, count: int = 100) -> list[dict[str, Any]]:
        answer = self._call(
            "GET",
            f"/2/users/{self.user_id()}/tweets",
            params={"max_results": count, "tweet.fields": "created_at"},
        )
        return list(answer.get("data", []))

    def my_replies(self, count: int = 100) -> list[dict[str, Any]]:
        """The account's newest posts with what each replies to (``referenced_tweets``, type
        ``replied_to``; docs.x.com/x-api/fundamentals/data-dictionary)."""
        answer = self._call(
            "GET",
            f"/2/users/{self.user_id()}/tweets",
            params={"max_results": count, "tweet.fields": "created_at,referenced_tweets"},
        )
        return list(answer.get("data", []))

    def hide_reply(self, tweet_id: str) -> None:
        """tweepy's ``hide_reply``: ``PUT /2/tweets/:id/hidden`` with ``{"hidden": true}``
        (docs.x.com/x-api/posts/hide-replies); the conversation's author only."""
        self._send(
            self._endpoint("PUT", f"/2/tweets/{tweet_id}/hidden"),
            lambda: self.client.hide_reply(tweet_id, user_auth=self.bearer is None),
        )

    def public_metrics(self, tweet_id: str) -> dict[str, Any]:
        """tweepy's ``get_tweet`` with ``public_metrics`` and ``non_public_metrics`` (impressions: the
        author's user context only; docs.x.com/x-api/fundamentals/metrics): the post's ``data``."""
        answer = self._send(
            self._endpoint("GET", f"/2/tweets/{tweet_id}"),
            lambda: self.client.get_tweet(
                tweet_id, tweet_fields=["public_metrics", "non_public_metrics"], user_auth=self.bearer is None
            ),
        )
        return dict(answer.get("data") or {})

    def replies(self, tweet_id: str) -> list[dict[str, Any]]:
        """The newest hundred replies in the post's conversation: tweepy's ``search_recent_tweets`` with
        ``conversation_id:<id>`` (docs.x.com/x-api/posts/search-recent-posts; the last seven days)."""
        answer = self._send(
            self._endpoint("GET", "/2/tweets/search/recent"),
            lambda: self.client.search_recent_tweets(
                f"conversation_id:{tweet_id}",
                tweet_fields=["created_at", "author_id", "conversation_id"],
                max_results=100,
                user_auth=self.bearer is None,
            ),
        )
        return list(answer.get("data") or [])

    def initialize(self, size: int, media_type: str) -> str:
        """v2 chunked upload (docs.x.com/x-api/media/quickstart/media-upload-chunked), step 1, INIT:
        a media id for ``size`` bytes of ``media_type``, its category from the type. Then ``append``
        each chunk, ``finalize``, and ``status`` while X processes it; the adapter makes each step
        one call in a worker thread."""
        category = (
            "tweet_video"
            if media_type.startswith("video/")
            else ("tweet_gif" if media_type == "image/gif" else "tweet_image")
        )
        init = self._call(
            "POST",
            "/2/media/upload/initialize",
            json={"media_type": media_type, "total_bytes": size, "media_category": category},
        )
        return str(init["data"]["id"])

    def append(self, media_id: str, index: int, chunk: bytes) -> None:
        """APPEND segment ``index`` (≤ 5 MB)."""
        self._upload(
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": str(index)},
            files={"media": ("chunk", chunk, "application/octet-stream")},
        )

    def finalize(self, media_id: str) -> dict[str, Any]:
        """FINALIZE: its ``processing_info`` (empty when X has nothing to do: the id is ready)."""
        final = self._upload(f"/2/media/upload/{media_id}/finalize", data={})
        return dict(final.get("data", {}).get("processing_info") or {})

    def describe(self, media_id: str, alt_text: str) -> None:
        """``POST /2/media/metadata``: the image's alt text, before the post attaches it
        (docs.x.com/x-api/media/create-media-metadata: ``{"id", "metadata": {"alt_text": {"text"}}}``;
        images and GIFs only, at most 1,000 characters, as v1.1's ``media/metadata/create``)."""
        self._call(
            "POST", "/2/media/metadata", json={"id": media_id, "metadata": {"alt_text": {"text": alt_text}}}
        )

    def status(self, media_id: str) -> dict[str, Any]:
        """STATUS of an upload: its ``processing_info``."""
        answer = self._call("GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id})
        return dict(answer.get("data", {}).get("processing_info") or {})
