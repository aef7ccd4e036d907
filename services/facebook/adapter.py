"""The Facebook Page adapter: link, photo, multi-photo and video posts, native scheduling, edit, delete."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from loa.channels import (
    Account,
    ChannelAdapter,
    ChannelError,
    Context,
    Limits,
    NativeWindow,
    PermanentError,
    Post,
    PublishResult,
    register,
)
from loa.channels.corrections import CorrectionLink
from loa.events import Content, MediaRef, Target
from services.facebook.comments import FacebookCommentActions
from services.facebook.graph import GraphClient, expected_offsets
from services.facebook.settings import FacebookSettings

log = logging.getLogger(__name__)

MESSAGE_MAX = 63_206
"""Facebook's post length in characters (https://ferryman.io/character-limits/facebook and others;
Meta does not publish it on developers.facebook.com)."""
CLOCK_SLACK = timedelta(minutes=10)
VIDEO_RESYNCS_MAX = 5
"""Times one upload may be told "not that offset" before it gives up (the platform's SDK: 2 or more)."""
NOT_FOUND = ("100/33",)
"""'Object ... does not exist' (code 100, subcode 33): already deleted."""


def hashtag(tag: str) -> str | None:
    """``"Chuyển đổi số"`` → ``"#ChuyểnĐổiSố"``.

    A hashtag is letters, digits and ``_`` written together, no spaces or punctuation
    (https://banhmikhong.net/hashtag-la-gi-va-su-dung-nhu-the-nao-cho-dung-cach.html); Facebook links
    Unicode letters, so Vietnamese diacritics stay (``#ViệtNam`` and ``#VietNam`` are different tags).
    All digits is not a hashtag on Facebook.
    """
    words = re.findall(r"\w+", unicodedata.normalize("NFC", tag))
    if not words:
        return None
    joined = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
    if joined.isdigit():
        return None
    return "#" + joined


def hashtags(tags: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for tag in tags:
        h = hashtag(tag)
        if h is not None and h.casefold() not in seen:
            seen.add(h.casefold())
            out.append(h)
    return out


def message_hash(message: str) -> str:
    """The marker: Facebook keeps no invisible token, so a post is known by the hash of its text."""
    normal = unicodedata.normalize("NFC", message).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:32]


def parse_graph_time(value: str) -> datetime:
    """Graph's ``2026-11-26T06:00:00+0000``."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


@register
class FacebookAdapter(FacebookCommentActions, ChannelAdapter):
    """A Facebook Page (account options: ``page_id``; credential: ``page_access_token``)."""

    name: ClassVar[str] = "facebook"
    metrics_port: ClassVar[int] = 9102  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    limits: ClassVar[Limits] = Limits(
        text_max=MESSAGE_MAX,
        media_types=frozenset(
            {
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/bmp",
                "image/tiff",
                "video/mp4",
                "video/quicktime",
            }
        ),
        # Formats JPEG/BMP/PNG/GIF/TIFF, "we recommend uploading photos under 4MB"
        # (https://developers.facebook.com/docs/graph-api/photo-uploads/); 10 MB is the commonly cited hard
        # limit of a `source` upload, not stated in the docs found.
        image_max_bytes=10 * 1024 * 1024,
        # Resumable upload: videos up to 10 GB (https://developers.facebook.com/docs/video-api/guides/publishing).
        video_max_bytes=10 * 1024**3,
        max_images=30,
        max_videos=1,
        requests_per_period=(50, 60.0),
    )
    supports_update: ClassVar[bool] = True

    def __init__(self, context: Context, settings: FacebookSettings | None = None) -> None:
        settings = settings or FacebookSettings()
        super().__init__(context, settings)
        self.settings: FacebookSettings = settings
        self.graph = GraphClient(
            settings.facebook_graph_url, settings.facebook_graph_version, settings.facebook_timeout_s
        )

    # ------------------------------------------------------------ rendering

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        link = self.context.canonical_url(content)
        # The headline leads (a photo or video post has no card to show it), then the summary or the
        # target's own text.
        headline, text = target.title or content.title, target.text or content.summary
        tags = " ".join(hashtags(content.tags))
        images = [m for m in content.media if m.is_image]
        videos = [m for m in content.media if m.is_video]
        if len(videos) > 1:
            raise PermanentError("media: Facebook takes one video per post")
        if videos:
            kind, media = "video", videos[:1]
        elif len(images) == 1:
            kind, media = "photo", images
        elif images:
            kind, media = "photos", images
        else:
            kind, media = "link", []
        # A link post shows the site's Open Graph card; photo and video posts cannot carry a card,
        # so the canonical link goes into their text.
        parts = [headline, text] if kind == "link" else [headline, text, link]
        message = unicodedata.normalize("NFC", "\n\n".join(p for p in [*parts, tags] if p))
        return Post(
            content_id=content.id,
            version=content.version,
            channel=self.name,
            account=account.name,
            marker=message_hash(message),
            title=content.title,
            texts=[message],  # all of it (link and hashtags too) counts against text_max
            media=media,
            payload={"kind": kind, "message": message, "link": link, "title": content.title},
            due_at=content.publish_at,
        )

    # ------------------------------------------------------------ helpers

    @staticmethod
    def page_id(account: Account) -> str:
        return str(account.options.get("page_id") or account.name)

    @staticmethod
    def token(account: Account) -> str:
        return account.secret("page_access_token")

    def native_window(self, account: Account) -> NativeWindow | None:
        """Facebook holds a post due 10 minutes to 30 days ahead (``facebook_native_min_lead_s`` keeps
        a margin over the 10 minutes); an account may opt out (``options.native_scheduling``)."""
        enabled = account.options.get("native_scheduling", self.settings.facebook_native_scheduling)
        if not enabled:
            return None
        return NativeWindow(
            min_lead=timedelta(seconds=self.settings.facebook_native_min_lead_s),
            max_lead=timedelta(seconds=self.settings.facebook_native_max_lead_s),
        )

    @staticmethod
    def schedule_args(when: datetime | None) -> dict[str, Any]:
        if when is None:
            return {}
        return {"published": "false", "scheduled_publish_time": str(int(when.timestamp()))}

    def _log(self, post: Post, account: Account, msg: str, **extra: Any) -> None:
        log.info(
            msg,
            extra={
                "content_id": post.content_id,
                "version": post.version,
                "channel": self.name,
                "account": account.name,
                **extra,
            },
        )

    # ------------------------------------------------------------ publish

    async def publish(self, post: Post, account: Account) -> PublishResult:
        when = self.native_time(post, account)
        if "attempt_at" not in post.progress:
            post.progress["attempt_at"] = datetime.now(UTC).isoformat()
            await self.context.save_progress(post)
        kind = post.payload["kind"]
        if kind == "link":
            result = await self._publish_link(post, account, when)
        elif kind == "photo":
            result = await self._publish_photo(post, account, when)
        elif kind == "photos":
            result = await self._publish_photos(post, account, when)
        else:
            result = await self._publish_video(post, account, when)
        self._log(post, account, f"published on facebook as {result.external_id}", state="published")
        return result

    def _result(
        self,
        post: Post,
        account: Account,
        external_id: str,
        when: datetime | None,
        url: str | None = None,
        **extra: Any,
    ) -> PublishResult:
        return PublishResult(
            external_id=external_id,
            url=url,
            extra={
                "page_id": self.page_id(account),
                "kind": post.payload["kind"],
                "marker": post.marker,
                "scheduled_publish_time": int(when.timestamp()) if when else None,
                **extra,
            },
            scheduled_natively=when is not None,
        )

    async def _permalink(self, account: Account, object_id: str) -> str | None:
        """The post's link, read after it was made; a failure here does not fail the post (None).

        The post exists by then: a failed read raised as the publish's error made the runtime try
        the publish again, and a retry made the post a second time (a lost read after a video's
        finish did, once, in the e2e bench's overload, docs/benchmarks.md "Session 29")."""
        try:
            body = await self.graph.call(self.token(account), object_id, args={"fields": "permalink_url"})
        except ChannelError as e:
            log.warning("facebook post %s made; its link not read: %s", object_id, e)
            return None
        url = body.get("permalink_url")
        if not url:
            return None
        # A video's permalink_url comes back relative ("/<page>/videos/<id>/"); ops need a link.
        return f"https://www.facebook.com{url}" if str(url).startswith("/") else str(url)

    async def _publish_link(self, post: Post, account: Account, when: datetime | None) -> PublishResult:
        args = {"message": post.payload["message"], "link": post.payload["link"], **self.schedule_args(when)}
        body = await self.graph.call(self.token(account), f"{self.page_id(account)}/feed", post_args=args)
        post_id = str(body["id"])
        return self._result(post, account, post_id, when, await self._permalink(account, post_id))

    async def _upload_photo(self, account: Account, media: MediaRef, args: dict[str, Any]) -> dict[str, Any]:
        # Photos are at most image_max_bytes (10 MB): requests reads the stream into one multipart body.
        if media.alt:  # the Photo reference's `alt_text_custom`, instead of Facebook's generated alt text
            args = {**args, "alt_text_custom": media.alt}
        stream = await _to_thread(self.context.media.open, media.key)
        try:
            files = {"source": (media.key.rsplit("/", 1)[-1], stream, media.content_type)}
            return await self.graph.call(
                self.token(account), f"{self.page_id(account)}/photos", post_args=args, files=files
            )
        finally:
            stream.close()
            stream.release_conn()

    async def _publish_photo(self, post: Post, account: Account, when: datetime | None) -> PublishResult:
        args = {"caption": post.payload["message"], **self.schedule_args(when)}
        body = await self._upload_photo(account, post.media[0], args)
        post_id = str(body.get("post_id") or body["id"])
        url = await self._permalink(account, post_id)
        return self._result(post, account, post_id, when, url, photo_ids=[str(body["id"])])

    async def _publish_photos(self, post: Post, account: Account, when: datetime | None) -> PublishResult:
        uploaded: dict[str, str] = dict(post.progress.get("photo_ids", {}))
        for media in post.media:
            if media.key in uploaded:
                continue  # uploaded by an earlier attempt
            # Unpublished photos to attach; `temporary` when the post itself is scheduled (posts guide).
            unpublished = {"published": "false", **({"temporary": "true"} if when else {})}
            body = await self._upload_photo(account, media, unpublished)
            uploaded[media.key] = str(body["id"])
            post.progress["photo_ids"] = uploaded
            await self.context.save_progress(post)
        photo_ids = [uploaded[m.key] for m in post.media]
        args: dict[str, Any] = {"message": post.payload["message"], **self.schedule_args(when)}
        for i, photo_id in enumerate(photo_ids):
            args[f"attached_media[{i}]"] = f'{{"media_fbid":"{photo_id}"}}'
        body = await self.graph.call(self.token(account), f"{self.page_id(account)}/feed", post_args=args)
        post_id = str(body["id"])
        url = await self._permalink(account, post_id)
        return self._result(post, account, post_id, when, url, photo_ids=photo_ids)

    async def _publish_video(self, post: Post, account: Account, when: datetime | None) -> PublishResult:
        """Resumable upload (start / transfer / finish), each chunk streamed from the media store.

        The session lives in ``post.progress``: a later attempt goes on with it. When the platform
        is at another offset than the one saved (a save was lost), it says which in ``error_data``
        and the upload goes on from there (``expected_offsets``) rather than failing.
        """
        token, page_id = self.token(account), self.page_id(account)
        upload: dict[str, Any] = dict(post.progress.get("video_upload", {}))
        if not upload:
            body = await self.graph.call(
                token,
                f"{page_id}/videos",
                post_args={"upload_phase": "start", "file_size": str(post.media[0].size)},
            )
            upload = {
                "video_id": str(body["video_id"]),
                "session_id": str(body["upload_session_id"]),
                "start": int(body["start_offset"]),
                "end": int(body["end_offset"]),
            }
            await self._save_upload(post, upload)
        args = {
            "upload_phase": "finish",
            "upload_session_id": upload["session_id"],
            "title": post.payload["title"],
            "description": post.payload["message"],
            **self.schedule_args(when),
        }
        for _ in range(VIDEO_RESYNCS_MAX):
            await self._transfer_video(post, account, upload)
            try:
                await self.graph.call(token, f"{page_id}/videos", post_args=args)
                break
            except ChannelError as e:  # 1363037: the platform is missing bytes; it says which
                await self._resync(post, upload, e)
        else:
            raise PermanentError(f"video upload out of step {VIDEO_RESYNCS_MAX} times; giving up")
        video_id = upload["video_id"]
        return self._result(post, account, video_id, when, await self._permalink(account, video_id))

    async def _transfer_video(self, post: Post, account: Account, upload: dict[str, Any]) -> None:
        """Send the chunks the platform asks for until it has the whole file."""
        media, token, page_id = post.media[0], self.token(account), self.page_id(account)
        resyncs = 0
        while upload["start"] < upload["end"]:
            start, length = upload["start"], upload["end"] - upload["start"]
            stream = await _to_thread(self.context.media.open, media.key, start, length)
            try:
                body = await self.graph.transfer_chunk(
                    token, page_id, upload["session_id"], start, stream, length
                )
            except ChannelError as e:  # 1363019: the platform is at another offset
                resyncs += 1
                if resyncs > VIDEO_RESYNCS_MAX:
                    raise
                await self._resync(post, upload, e)
                continue
            finally:
                stream.close()
                stream.release_conn()
            upload["start"], upload["end"] = int(body["start_offset"]), int(body["end_offset"])
            await self._save_upload(post, upload)

    async def _resync(self, post: Post, upload: dict[str, Any], error: ChannelError) -> None:
        """Take the offsets the platform expects from its error, or raise the error."""
        offsets = expected_offsets(error)
        if offsets is None:
            raise error
        log.info(
            "video upload resumes at the platform's offset %d (was %d)",
            offsets[0],
            upload["start"],
            extra={"content_id": post.content_id, "channel": self.name, "account": post.account},
        )
        upload["start"], upload["end"] = offsets
        await self._save_upload(post, upload)

    async def _save_upload(self, post: Post, upload: dict[str, Any]) -> None:
        post.progress["video_upload"] = dict(upload)
        await self.context.save_progress(post)

    # ------------------------------------------------------------ find, confirm, update, retract

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        """Search the page's recent posts (or videos) and scheduled posts for the message hash."""
        since = self._search_since(post)
        token, page_id = self.token(account), self.page_id(account)
        args = {"since": str(int(since.timestamp())), "limit": "100"}
        if post.payload["kind"] == "video":
            edges = [("videos", "id,description,created_time,published,permalink_url,scheduled_publish_time")]
        else:
            fields = "id,message,created_time,permalink_url,is_published,scheduled_publish_time"
            edges = [("feed", fields), ("scheduled_posts", fields)]
        for edge, fields in edges:
            body = await self.graph.call(token, f"{page_id}/{edge}", args={**args, "fields": fields})
            for item in body.get("data", []):
                text = item.get("message", item.get("description", ""))
                if message_hash(text) != post.marker:
                    continue
                scheduled = item.get("scheduled_publish_time")
                native = edge == "scheduled_posts" or (edge == "videos" and not item.get("published", True))
                when = datetime.fromtimestamp(int(scheduled), UTC) if native and scheduled else None
                self._log(post, account, f"found existing facebook post {item['id']}", state="published")
                return self._result(post, account, str(item["id"]), when, item.get("permalink_url"))
        return None

    def _search_since(self, post: Post) -> datetime:
        attempt = post.progress.get("attempt_at")
        if attempt:
            return datetime.fromisoformat(attempt) - CLOCK_SLACK
        return datetime.now(UTC) - timedelta(seconds=self.settings.facebook_find_window_s)

    async def confirm(self, previous: PublishResult, account: Account) -> PublishResult | None:
        """A natively scheduled post, read back: the live post once Facebook has published it."""
        if not previous.scheduled_natively:
            return previous
        fields = (
            "permalink_url,published"
            if previous.extra.get("kind") == "video"
            else "is_published,permalink_url"
        )
        body = await self.graph.call(self.token(account), previous.external_id, args={"fields": fields})
        if not body.get("is_published", body.get("published", False)):
            return None
        return PublishResult(
            external_id=previous.external_id,
            url=body.get("permalink_url") or previous.url,
            extra=dict(previous.extra),
            scheduled_natively=False,
        )

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        """Edit the message (a video's description); a still-scheduled post also takes the new time."""
        field = "description" if previous.extra.get("kind") == "video" else "message"
        args: dict[str, Any] = {field: post.payload["message"]}
        when = None
        if previous.scheduled_natively and (when := self.native_time(post, account)) is not None:
            old = previous.extra.get("scheduled_publish_time")
            if old != int(when.timestamp()):
                args["scheduled_publish_time"] = str(int(when.timestamp()))
        await self.graph.call(self.token(account), previous.external_id, post_args=args)
        extra = {**previous.extra, "marker": post.marker}
        if "scheduled_publish_time" in args:
            extra["scheduled_publish_time"] = int(args["scheduled_publish_time"])
        return PublishResult(previous.external_id, previous.url, extra, previous.scheduled_natively)

    async def retract(self, previous: PublishResult, account: Account) -> None:
        """Delete the post (scheduled or live); one already gone counts as deleted."""
        from loa.channels import ChannelError

        try:
            await self.graph.call(self.token(account), previous.external_id, method="DELETE")
        except ChannelError as e:
            if e.code not in NOT_FOUND:
                raise

    async def pull_back(self, post: Post, previous: PublishResult, account: Account) -> bool:
        """A hold: delete the unpublished scheduled post (the Page Post reference documents no way to
        unschedule one: ``scheduled_publish_time`` only takes another time in the window). A post
        already gone counts as pulled back; one already live is left alone (False). The progress
        is cleared: ``publish`` after the release makes the post anew, at its time (a video is
        uploaded again), and ``find_existing`` finds only that one."""
        from loa.channels import ChannelError

        token = self.token(account)
        fields = "published" if previous.extra.get("kind") == "video" else "is_published"
        try:
            body = await self.graph.call(token, previous.external_id, args={"fields": fields})
        except ChannelError as e:
            if e.code not in NOT_FOUND:
                raise
            body = {}
        if body.get("is_published", body.get("published", False)):
            return False
        await self.retract(previous, account)  # DELETE /{post-id}; one already gone is fine
        post.progress = {}
        await self.context.save_progress(post)
        self._log(post, account, f"pulled back scheduled facebook post {previous.external_id}", state="held")
        return True

    # ------------------------------------------------------------ corrections

    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        """Every correction comments on its original (and may pin itself: target option ``pin``)."""
        return True

    @staticmethod
    def correction_comment(link: CorrectionLink) -> str:
        """The comment left on the original: the correction's title and its link (stable, so the
        comment is found again by its hash after an interruption)."""
        return unicodedata.normalize("NFC", f"{link.headline}\n{link.url}")

    async def link_correction(self, link: CorrectionLink, account: Account) -> PublishResult:
        """Comment on the original post with the correction's link: Graph ``POST /{object-id}/comments``
        with ``message`` (https://developers.facebook.com/docs/graph-api/reference/object/comments/;
        facebook-sdk's ``put_comment`` sends the same), then pin the correction if asked."""
        original = await self._page_post_id(account, link.original.external_id)
        body = await self.graph.call(
            self.token(account), f"{original}/comments", post_args={"message": self.correction_comment(link)}
        )
        return await self._linked(link, account, str(body["id"]))

    async def find_correction_link(self, link: CorrectionLink, account: Account) -> PublishResult | None:
        """The comment already left on the original (newest first), found by the hash of its text."""
        args = {"fields": "id,message", "order": "reverse_chronological", "limit": "100"}
        original = await self._page_post_id(account, link.original.external_id)
        body = await self.graph.call(self.token(account), f"{original}/comments", args=args)
        marker = message_hash(self.correction_comment(link))
        for item in body.get("data", []):
            if message_hash(item.get("message", "")) == marker:
                return await self._linked(link, account, str(item["id"]))
        return None

    async def _linked(self, link: CorrectionLink, account: Account, comment_id: str) -> PublishResult:
        """With the target option ``pin`` (and a correction post on this Page), pin that post: Graph
        ``POST /{page-post-id}`` with ``is_pinned=true`` (Page Post reference, "Updating",
        https://developers.facebook.com/docs/graph-api/reference/page-post/#updating). Pinning is
        idempotent, so a link found after an interruption is pinned again safely."""
        pinned = None
        if link.options.get("pin") and link.correction is not None:
            pinned = await self._page_post_id(account, link.correction.external_id)
            await self.graph.call(self.token(account), pinned, post_args={"is_pinned": "true"})
        extra = {"original_id": link.original.external_id, "comment_id": comment_id, "pinned": pinned}
        return PublishResult(external_id=comment_id, url=link.original.url, extra=extra)

    async def _page_post_id(self, account: Account, external_id: str) -> str:
        return await page_post_id(self.graph, self.token(account), external_id)

    async def aclose(self) -> None:
        self.graph.close()


async def page_post_id(graph: GraphClient, token: str, external_id: str) -> str:
    """The Page post of a published object: a post's id is ``<page-id>_<post-id>`` already; a video
    post's external id is the Video's, whose Page post is its ``post_id`` field (Video reference,
    https://developers.facebook.com/docs/graph-api/reference/video/). Comments, pins and the
    listener's reads go to the post (found by the incident drill: a video's id was commented on and
    pinned directly; and by the comment acceptance test: the listener read a video's id)."""
    if "_" in external_id:
        return external_id
    body = await graph.call(token, external_id, args={"fields": "post_id"})
    return str(body["post_id"])


async def _to_thread(fn: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(fn, *args)
