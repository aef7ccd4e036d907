"""The Zalo OA adapter: an article (title, author = the unit, cover, description, body items),
created asynchronously (``create`` → token → ``verify`` → article id), optionally broadcast to
followers. Limits and error codes: README.md beside this file."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, ClassVar

import httpx

from loa.channels import (
    Account,
    AuthError,
    ChannelAdapter,
    LimitError,
    Limits,
    PermanentError,
    Post,
    PublishResult,
    TransientError,
    register,
)
from loa.channels.clients import ClientPerAccount
from loa.channels.corrections import CorrectionLink
from loa.events import Content, ContentKind, MediaRef, Target
from loa.media import Profile, RenditionError
from loa.media.fit import fit_image
from loa.media.store import public_key, public_media_user, public_sha256
from loa.text import count_code_points
from loa.tls import client_context
from services.zalo.api import TokenRejectedError, ZaloApi
from services.zalo.body import to_items
from services.zalo.corrections import has_link, with_link
from services.zalo.settings import ZaloSettings
from services.zalo.tokens import TokenManager, refresh_expiry
from services.zalo.video import (
    STATUS_FAILED,
    STATUS_READY,
    VIDEO_MAX_BYTES,
    VIDEO_TYPES,
    SizedStream,
)

log = logging.getLogger(__name__)
PUBLIC_MEDIA = "public_media"
NOTIFY_FOLLOWERS = "notify_followers"
"""Target option: broadcast the article to the OA's followers (a correction: once it names its original)."""

TITLE_MAX, AUTHOR_MAX, DESCRIPTION_MAX = 150, 50, 300
VERIFY_FIRST_WAIT_S = 0.2
# Zalo OA "upload image" API: JPG/PNG up to 1 MB; article images (cover and body) at most 2048 px a side.
IMAGE_PROFILE = Profile("zalo_image", 2048, 2048, 1024 * 1024)
IMAGE_MAX_BYTES = IMAGE_PROFILE.max_bytes  # Zalo's image limit (issue 8; unconfirmed, see README)


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis; Zalo's description is a teaser."""
    if count_code_points(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


@register
class ZaloAdapter(ChannelAdapter):
    name: ClassVar[str] = "zalo"
    metrics_port: ClassVar[int] = 9103  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    limits: ClassVar[Limits] = Limits(
        title_max=TITLE_MAX,
        text_max=DESCRIPTION_MAX,
        media_types=frozenset({"image/jpeg", "image/png", *VIDEO_TYPES}),
        image_max_bytes=IMAGE_MAX_BYTES,
        video_max_bytes=VIDEO_MAX_BYTES,
        max_images=20,
        max_videos=1,
        requests_per_period=(10, 1.0),
    )
    settings: ZaloSettings

    def __init__(self, context: Any, settings: ZaloSettings | None = None) -> None:
        super().__init__(context, settings or ZaloSettings())
        timeout = self.settings.zalo_timeout_s
        # OAuth's token refreshes (a few a day) share one client
        self.http = httpx.AsyncClient(timeout=timeout, verify=client_context())
        self.api = ZaloApi(ClientPerAccount(timeout=timeout), self.settings.zalo_openapi_url)
        self.tokens = TokenManager(
            self.http,
            self.settings.zalo_oauth_url,
            context,
            timedelta(seconds=self.settings.zalo_refresh_ahead_s),
        )

    async def aclose(self) -> None:
        await self.tokens.aclose()
        await self.api.aclose()
        await self.http.aclose()

    async def check_account(self, account: Account) -> str | None:
        """Daily: renew a refresh token past half its life (a refresh renews it for 3 months);
        only if that cannot be done and it expires within ``LOA_ZALO_REFRESH_WARN_DAYS``, say so."""
        if self.tokens.refresh_token_old(account):
            try:
                _, account = await self.tokens.refresh(account, renew=True)
            except AuthError as e:
                return e.message
            except TransientError as e:
                log.warning("could not renew the refresh token of Zalo OA %s: %s", account.name, e.message)
        warn = timedelta(days=self.settings.zalo_refresh_warn_days)
        if self.tokens.refresh_token_expiring(account, warn):
            expires = refresh_expiry(account)
            assert expires is not None
            return (
                f"the refresh token of Zalo OA {account.name} expires at {expires:%Y-%m-%d %H:%M} UTC "
                "and Zalo could not be reached to renew it; if it expires, a person must "
                "re-authorise the OA"
            )
        return None

    # -- calls with the OA's token: refresh once when Zalo refuses it ----------------------
    async def _call(self, account: Account, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        token, account = await self.tokens.token(account)
        try:
            return await self.api.call(account, method, path, token, **kwargs)
        except TokenRejectedError:
            token, _ = await self.tokens.refresh(account, rejected=token)
            return await self.api.call(account, method, path, token, **kwargs)

    # -- rendering ---------------------------------------------------------------------------
    async def _fit(self, media: MediaRef) -> MediaRef:
        """An image over 1 MB is re-encoded as a JPEG that fits."""
        try:
            return await fit_image(self.context.media, media, IMAGE_PROFILE)
        except RenditionError as e:
            raise PermanentError(f"media: {e}") from e

    def _public_url(self, media: MediaRef) -> str:
        """Zalo fetches images by URL: where the image will be in the public website bucket.

        Only the address, at render: the copy is made when the article is sent (``_go_public``),
        because render runs at intake, which may be days before ``publish_at``, and an embargoed
        photo must not be public before its article.
        """
        return f"{str(self.settings.website_base_url).rstrip('/')}/{public_key(media)}"

    async def _go_public(self, post: Post) -> None:
        """Copy the post's images into the public bucket, each marked as used by this content."""
        used_by = public_media_user(self.name, post.content_id)
        for media in post.media:
            if media.is_image:
                await asyncio.to_thread(self.context.media.publish_public, media, used_by)

    def _showing(self, result: PublishResult, post: Post) -> PublishResult:
        """``result`` remembering the public copies its article shows, so a retraction or an update
        that drops a photo can release them (``public_media``: their sha256s)."""
        shown = [public_sha256(m) for m in post.media if m.is_image]
        extra = {**result.extra, "content_id": post.content_id, PUBLIC_MEDIA: shown}
        return PublishResult(result.external_id, result.url, extra, result.scheduled_natively)

    async def _release_public(self, result: PublishResult, keep: frozenset[str] = frozenset()) -> None:
        """The article no longer shows the images ``result`` recorded (but ``keep``): drop its marks,
        and each public copy no other publication shows (``MediaStore.release_public``). A result
        recorded before Zalo kept this list has none: its copies stay (docs/security.md)."""
        content_id = result.extra.get("content_id")
        dropped = [s for s in result.extra.get(PUBLIC_MEDIA, []) if s not in keep]
        if content_id and dropped:
            used_by = public_media_user(self.name, str(content_id))
            await asyncio.to_thread(self.context.media.release_public, dropped, used_by)

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        title = target.title or content.title
        author = str(account.options.get("author") or content.unit)
        if count_code_points(author) > AUTHOR_MAX:
            raise PermanentError(
                f"author: the unit name has {count_code_points(author)} characters; "
                f"Zalo allows {AUTHOR_MAX} (set the account option 'author')"
            )
        link = self.context.canonical_url(content)
        images = {m.key: await self._fit(m) for m in content.media if m.is_image}  # by original key
        cover = next(iter(images), None)
        urls = {key: self._public_url(m) for key, m in images.items()}
        items = to_items(content.body, lambda src: urls.get(src.removeprefix("loa-media:")))
        videos = [m for m in content.media if m.is_video] if content.kind == ContentKind.VIDEO else []
        # An override is the editor's words: never cut (the runtime refuses one over the limit);
        # the summary is a teaser, cut to fit.
        description = target.text or shorten(content.summary or title, DESCRIPTION_MAX)
        comment = str(account.options.get("comment", "show"))
        notify = bool(target.options.get(NOTIFY_FOLLOWERS))
        if videos:
            if cover is None:
                raise LimitError("media: a Zalo video article needs an image for its avatar (cover)")
            # type "video": title, description, video_id (set at publish), avatar, comment
            # (zaloplatform/zalo-java-sdk CreateVideoArticle.java); no author, no body.
            payload: dict[str, Any] = {
                "type": "video",
                "title": title,
                "description": description,
                "avatar": urls[cover],
                "status": "show",
                "comment": comment,
            }
        else:
            # The canonical link closes the body: readers find the source, find_existing the marker.
            items.append({"type": "text", "content": f"Nguồn: {link}"})
            payload = {
                "type": "normal",
                "title": title,
                "author": author,
                "description": description,
                "body": items,
                "status": "show",
                "comment": comment,
            }
            if cover is not None:
                payload["cover"] = {"cover_type": "photo", "photo_url": urls[cover], "status": "show"}
        return Post(
            content_id=content.id,
            version=content.version,
            channel=self.name,
            account=account.name,
            marker=link,
            title=title,
            texts=[description],
            media=videos[:1] + list(images.values()),
            # A correction is broadcast by its link step, once its body names the original.
            payload={
                "article": payload,
                "notify_followers": notify and content.kind != ContentKind.CORRECTION,
            },
            due_at=content.publish_at,
        )

    # -- publishing ----------------------------------------------------------------------------
    async def publish(self, post: Post, account: Account) -> PublishResult:
        await self._go_public(post)
        if "create_token" not in post.progress:
            article = dict(post.payload["article"])
            if article["type"] == "video":
                article["video_id"] = await self._video_id(post, account)
            created = await self._call(account, "POST", "/v2.0/article/create", json=article)
            post.progress["create_token"] = created["token"]
            await self.context.save_progress(post)  # a restart verifies this token, never re-creates
        article_id = await self._verify(account, post.progress["create_token"])
        result = await self._result(account, article_id)
        if post.payload.get("notify_followers") and not post.progress.get("broadcast_id"):
            post.progress["broadcast_id"] = await self._broadcast(account, article_id)
            await self.context.save_progress(post)
        if post.progress.get("broadcast_id"):
            result = PublishResult(
                result.external_id,
                result.url,
                {**result.extra, "broadcast_id": post.progress["broadcast_id"]},
            )
        return self._showing(result, post)

    async def _verify(self, account: Account, token: str) -> str:
        wait = VERIFY_FIRST_WAIT_S
        for _ in range(self.settings.zalo_verify_attempts):
            try:
                verified = await self._call(account, "POST", "/v2.0/article/verify", json={"token": token})
                return str(verified["id"])
            except TransientError as e:
                if e.code != "-214":  # only "still processing" is polled here
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0)
        raise TransientError("Zalo is still processing the article; verifying again later", code=-214)

    # -- video articles -------------------------------------------------------------------------
    async def _video_id(self, post: Post, account: Account) -> str:
        """Upload once (the upload token is saved before anything else), then wait for Zalo."""
        if "video_id" in post.progress:
            return str(post.progress["video_id"])
        if "video_token" not in post.progress:
            post.progress["video_token"] = await self._upload_video(account, post.media[0])
            await self.context.save_progress(post)  # a restart polls this upload, never uploads twice
        post.progress["video_id"] = await self._wait_for_video(account, post.progress["video_token"])
        await self.context.save_progress(post)
        return str(post.progress["video_id"])

    async def _upload_video(self, account: Account, video: MediaRef) -> str:
        """``preparevideo``, streamed from MinIO (reopened if Zalo refuses the token once)."""
        token, account = await self.tokens.token(account)
        name = f"{video.sha256[:16]}.{VIDEO_TYPES[video.content_type]}"
        for attempt in (1, 2):
            raw = await asyncio.to_thread(self.context.media.open, video.key)
            stream = SizedStream(raw, video.size)
            try:
                uploaded = await self.api.call(
                    account,
                    "POST",
                    "/v2.0/article/upload_video/preparevideo",
                    token,
                    files={"file": (name, stream, video.content_type)},
                    timeout=self.settings.zalo_upload_timeout_s,
                )
                return str(uploaded["token"])
            except TokenRejectedError:
                if attempt == 2:
                    raise
                token, account = await self.tokens.refresh(account, rejected=token)
            finally:
                stream.close()
        raise AssertionError("unreachable")

    async def _wait_for_video(self, account: Account, upload_token: str) -> str:
        wait = VERIFY_FIRST_WAIT_S
        for _ in range(self.settings.zalo_verify_attempts):
            info = await self._call(
                account, "GET", "/v2.0/article/upload_video/verify", headers={"token": upload_token}
            )
            status = int(info.get("status", 0))
            if status == STATUS_READY:
                return str(info["video_id"])
            if status in STATUS_FAILED:
                raise PermanentError(
                    f"media: Zalo {STATUS_FAILED[status]} the video ({info.get('status_message', '')})",
                    code=f"video_status_{status}",
                )
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0)
        raise TransientError("Zalo is still processing the video; checking again later", code="video")

    async def _result(self, account: Account, article_id: str) -> PublishResult:
        detail = await self._call(account, "GET", "/v2.0/article/getdetail", params={"id": article_id})
        return PublishResult(external_id=article_id, url=detail.get("url") or detail.get("link_view"))

    async def _broadcast(self, account: Account, article_id: str) -> str:
        """One broadcast of the article to followers. No quota is read first: the quota endpoint
        (``/v2.0/oa/quota/message``) counts free consultation messages, not broadcasts; a broadcast
        past its quota answers -211, which waits for the next quota day (``api.CODES``)."""
        message = {
            "recipient": {"target": {}},
            "message": {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "media",
                        "elements": [{"media_type": "article", "attachment_id": article_id}],
                    },
                }
            },
        }
        sent = await self._call(account, "POST", "/v2.0/oa/message", json=message)
        return str(sent["message_id"])

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        """An article with this title whose body ends with our canonical link (the marker)."""
        if "create_token" in post.progress:
            try:
                article_id = await self._verify(account, post.progress["create_token"])
                return self._showing(await self._result(account, article_id), post)
            except PermanentError:
                pass  # the token is unknown: the create never reached Zalo
        video = post.payload["article"]["type"] == "video"
        if video and "video_id" not in post.progress:
            return None  # an article is created only with a processed video, saved as progress first
        for offset in range(0, 50, 10):  # getslice answers at most 10 a call
            page = await self._call(
                account,
                "GET",
                "/v2.0/article/getslice",
                params={"offset": offset, "limit": 10, "type": post.payload["article"]["type"]},
            )
            for media in page.get("medias", []):
                if media.get("title") != post.title:
                    continue
                detail = await self._call(
                    account, "GET", "/v2.0/article/getdetail", params={"id": media["id"]}
                )
                if (video and detail.get("video_id") == post.progress["video_id"]) or any(
                    post.marker in str(item.get("content", "")) for item in detail.get("body") or []
                ):
                    return self._showing(PublishResult(str(media["id"]), detail.get("url")), post)
            if offset + 10 >= int(page.get("total", 0)):
                break
        return None

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        await self._go_public(post)
        article = {"id": previous.external_id, **post.payload["article"]}
        if article["type"] == "video":  # the text changes; the video stays (a new one = a new article)
            detail = await self._call(
                account, "GET", "/v2.0/article/getdetail", params={"id": previous.external_id}
            )
            article["video_id"] = detail["video_id"]
        await self._call(account, "POST", "/v2.0/article/update", json=article)
        updated = self._showing(previous, post)
        await self._release_public(previous, keep=frozenset(updated.extra[PUBLIC_MEDIA]))
        return updated

    async def retract(self, previous: PublishResult, account: Account) -> None:
        try:
            await self._call(account, "POST", "/v2.0/article/remove", json={"id": previous.external_id})
        except PermanentError:
            if await self._exists(account, previous.external_id):
                raise  # still there: the removal really failed
        await self._release_public(previous)

    # -- corrections: the correction's article names its original, and may be broadcast --------
    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        return True

    async def link_correction(self, link: CorrectionLink, account: Account) -> PublishResult:
        """Put the original's link on top of the correction's article body (``corrections.py``),
        then broadcast the correction to followers if the target asks (option ``notify_followers``).
        The broadcast is sent at most once: its start is saved first, and a start without an answer
        (a crash in between) is never sent again, only shown as unconfirmed."""
        article_id, original_url = self._correction_article(link), self._original_url(link)
        detail = await self._call(account, "GET", "/v2.0/article/getdetail", params={"id": article_id})
        if not has_link(detail, original_url):
            await self._call(account, "POST", "/v2.0/article/update", json=with_link(detail, original_url))
        progress = link.post.progress
        if link.options.get(NOTIFY_FOLLOWERS) and "broadcast_started" not in progress:
            progress["broadcast_started"] = True
            await self.context.save_progress(link.post)
            progress["broadcast_id"] = await self._broadcast(account, article_id)
            await self.context.save_progress(link.post)
        return self._link_result(link, article_id)

    async def find_correction_link(self, link: CorrectionLink, account: Account) -> PublishResult | None:
        """Done if the article names its original and any broadcast asked for was started."""
        article_id = self._correction_article(link)
        detail = await self._call(account, "GET", "/v2.0/article/getdetail", params={"id": article_id})
        broadcast_due = link.options.get(NOTIFY_FOLLOWERS) and "broadcast_started" not in link.post.progress
        if not has_link(detail, self._original_url(link)) or broadcast_due:
            return None
        return self._link_result(link, article_id)

    @staticmethod
    def _correction_article(link: CorrectionLink) -> str:
        if link.correction is None:
            raise PermanentError("the correction's own article is not on this OA: nothing to link it from")
        return link.correction.external_id

    @staticmethod
    def _original_url(link: CorrectionLink) -> str:
        return link.original.url or link.website_url

    @staticmethod
    def _link_result(link: CorrectionLink, article_id: str) -> PublishResult:
        progress = link.post.progress
        broadcast = progress.get("broadcast_id") or (
            "unconfirmed" if "broadcast_started" in progress else None
        )
        extra = {"original_id": link.original.external_id, "broadcast_id": broadcast}
        url = link.correction.url if link.correction is not None else None
        return PublishResult(f"{article_id}:link", url, extra)

    async def _exists(self, account: Account, article_id: str) -> bool:
        try:
            await self._call(account, "GET", "/v2.0/article/getdetail", params={"id": article_id})
        except PermanentError:
            return False
        return True
