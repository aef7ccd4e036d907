"""The TikTok adapter: one video per content, posted with the Content Posting API's Direct Post.

The flow (developers.tiktok.com/doc/content-posting-api-get-started): ask the creator's options
(``creator_info/query``), open the post (``video/init``, FILE_UPLOAD), PUT the video in chunks
streamed from MinIO (``chunks``), then poll ``status/fetch`` until TikTok says PUBLISH_COMPLETE or
FAILED. ``post.progress`` holds the ``publish_id`` from before the first byte: a retry or a recovery
asks TikTok about that post instead of opening another. The API can neither edit nor delete a post:
``update`` and ``retract`` say so (``UnsupportedError``), the retraction left to a person.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar, get_args

from loa.channels import (
    Account,
    AuthError,
    ChannelAdapter,
    Context,
    Limits,
    PermanentError,
    Post,
    PublishResult,
    TransientError,
    UnsupportedError,
    register,
)
from loa.channels.credentials import RotatingCredentials
from loa.events import Content, MediaRef, Target
from loa.text import count_utf16_units
from services.tiktok import caption
from services.tiktok.api import TikTokApi
from services.tiktok.chunks import VIDEO_MAX_BYTES, ChunkPlan, plan_chunks
from services.tiktok.errors import TokenRejectedError
from services.tiktok.oauth import ACCESS, TikTokRotation, renewal_due
from services.tiktok.settings import PrivacyLevel, TikTokSettings

log = logging.getLogger("loa.tiktok")
T = TypeVar("T")

# Supported formats: MP4 (recommended), WebM, MOV (developers.tiktok.com/doc/
# content-posting-api-media-transfer-guide, "Video restrictions").
VIDEO_TYPES = frozenset({"video/mp4", "video/webm", "video/quicktime"})
INTERACTIONS = ("comment", "duet", "stitch")
"""``post_info.disable_<x>``; a creator who turned one off (``<x>_disabled``) keeps it off."""
DONE = frozenset({"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"})
FAILED = "FAILED"
RETRY_FAIL_REASONS = frozenset({"internal"})
"""``fail_reason`` values another upload may cure; any other one is the video's or the post's."""
VIDEO_URL = "https://www.tiktok.com/@{username}/video/{post_id}"
NO_VIDEO = "media: the content has no video (media of type video/*); a TikTok post is a video"


def marker_for(content: Content, account: Account) -> str:
    """Names the post in Loa (TikTok keeps no field of ours: ``find_existing`` asks by ``publish_id``)."""
    return hashlib.sha256(f"{content.id}:{content.version}:{account.name}".encode()).hexdigest()[:16]


@register
class TikTokAdapter(ChannelAdapter):
    name: ClassVar[str] = "tiktok"
    metrics_port: ClassVar[int] = 9109  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    limits: ClassVar[Limits] = Limits(
        text_max=caption.CAPTION_MAX_UTF16,
        count=count_utf16_units,
        media_types=VIDEO_TYPES,
        video_max_bytes=VIDEO_MAX_BYTES,
        max_videos=1,
        requests_per_period=(6, 60.0),  # video/init: 6 requests a minute per user access token
    )
    supports_update: ClassVar[bool] = False
    settings: TikTokSettings

    def __init__(self, context: Context, settings: TikTokSettings | None = None) -> None:
        super().__init__(context, settings or TikTokSettings())
        s = self.settings
        self.api = TikTokApi(s.tiktok_api_url, s.tiktok_timeout_s, s.tiktok_upload_timeout_s)
        self.tokens = RotatingCredentials(context, TikTokRotation(s.tiktok_api_url, s.tiktok_timeout_s))

    async def aclose(self) -> None:
        await self.tokens.aclose()  # a refresh in flight commits its pair first
        await self.api.aclose()

    # -- render -------------------------------------------------------------------------------
    @classmethod
    def refuse_target(cls, content: Content, target: Target, link: str) -> str | None:
        """Known at the ingest: no video, or a privacy level TikTok does not have."""
        if not any(m.is_video for m in content.media):
            return NO_VIDEO
        privacy = target.options.get("privacy_level")
        if privacy is not None and privacy not in get_args(PrivacyLevel):
            return f"options.privacy_level: {privacy!r} is not one of {', '.join(get_args(PrivacyLevel))}"
        return None

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        video = next((m for m in content.media if m.is_video), None)
        if video is None:
            raise PermanentError(NO_VIDEO, code="noVideo")
        text = target.text or content.summary or content.title
        body = caption.render_caption(
            target.title or content.title,
            text,
            self.context.canonical_url(content),
            content.tags,
            may_shorten=target.text is None,
        )
        options = {**account.options, **target.options}
        return Post(
            content_id=content.id,
            version=content.version,
            channel=self.name,
            account=account.name,
            marker=marker_for(content, account),
            texts=[body],
            media=[video],
            payload={
                "privacy_level": str(options.get("privacy_level", self.settings.tiktok_privacy_level)),
                **{f"disable_{x}": bool(options.get(f"disable_{x}", False)) for x in INTERACTIONS},
            },
            due_at=content.publish_at,
        )

    # -- publish ------------------------------------------------------------------------------
    async def publish(self, post: Post, account: Account) -> PublishResult:
        if post.progress.get("publish_id"):
            found = await self._continue(post, account)
            if found is not None:
                return found
        video = post.media[0]
        try:
            plan = plan_chunks(video.size, self.settings.tiktok_chunk_bytes)
        except ValueError as e:
            raise PermanentError(str(e), code="video_size") from e
        creator = await self._call(account, self.api.creator_info)
        body = {"post_info": self._post_info(post, video, creator), "source_info": plan.source_info()}
        opened = await self._call(account, lambda token: self.api.init(token, body))
        # Saved before the first byte: from here on a retry asks TikTok about this post.
        post.progress = {
            "publish_id": str(opened["publish_id"]),
            "upload_url": str(opened["upload_url"]),
            "chunk_size": plan.chunk_size,
            "total_chunk_count": plan.total_chunk_count,
            "chunks_sent": 0,
            "username": str(creator.get("creator_username", "")),
        }
        await self.context.save_progress(post)
        log.info("opened TikTok post %s", post.progress["publish_id"], extra=self._log_extra(post))
        await self._upload(post, video)
        return await self._await_published(post, account)

    def _post_info(self, post: Post, video: MediaRef, creator: dict[str, Any]) -> dict[str, Any]:
        """``post_info`` within what the creator allows (Direct Post reference, "Query creator info")."""
        privacy = str(post.payload["privacy_level"])
        allowed = [str(p) for p in creator.get("privacy_level_options", [])]
        if privacy not in allowed:
            raise PermanentError(
                f"options.privacy_level: {privacy} is not one this TikTok creator may use "
                f"(privacy_level_options: {', '.join(allowed) or 'none'})",
                code="privacy_level_option_mismatch",
            )
        longest = creator.get("max_video_post_duration_sec")
        if video.duration_s and longest and video.duration_s > float(longest):
            raise PermanentError(
                f"media[0]: the video lasts {video.duration_s:g} s, this TikTok creator may post at most "
                f"{longest} s (max_video_post_duration_sec)",
                code="duration",
            )
        info: dict[str, Any] = {"title": post.texts[0], "privacy_level": privacy}
        for x in INTERACTIONS:
            info[f"disable_{x}"] = bool(post.payload[f"disable_{x}"] or creator.get(f"{x}_disabled"))
        return info

    async def _upload(self, post: Post, video: MediaRef) -> None:
        """The chunks not yet sent, in order, each saved as sent (TikTok wants them sequential)."""
        progress = post.progress
        plan = ChunkPlan(video.size, int(progress["chunk_size"]), int(progress["total_chunk_count"]))
        for index in range(int(progress["chunks_sent"]), plan.total_chunk_count):
            await self.api.put_chunk(
                str(progress["upload_url"]), plan, index, video.content_type, self.context.media, video.key
            )
            progress["chunks_sent"] = index + 1
            await self.context.save_progress(post)

    async def _continue(self, post: Post, account: Account) -> PublishResult | None:
        """A post opened by an earlier attempt: its result, or its upload and polling carried on.
        None: its upload URL lapsed, TikTok drops it; open a new one."""
        if int(post.progress["chunks_sent"]) < int(post.progress["total_chunk_count"]):
            await self._count_received_chunks(post, account)
        if int(post.progress["chunks_sent"]) < int(post.progress["total_chunk_count"]):
            try:
                await self._upload(post, post.media[0])
            except PermanentError as e:  # the upload URL lapsed (it lives an hour): TikTok drops the post
                log.warning(
                    "upload of an earlier attempt refused (%s): opening a new post",
                    e.code,
                    extra=self._log_extra(post),
                )
                await self._forget(post)
                return None
        return await self._await_published(post, account)

    async def _count_received_chunks(self, post: Post, account: Account) -> None:
        """The chunks TikTok holds, by the status's ``uploaded_bytes``: a chunk whose answer was lost
        (a timeout after TikTok took it) is not sent twice (chunks go in order; TikTok does not say
        what it does with a repeated one, the emulator refuses it)."""
        progress = post.progress
        status = await self._call(account, lambda token: self.api.status(token, str(progress["publish_id"])))
        received, chunk = status.get("uploaded_bytes"), int(progress["chunk_size"])
        if not isinstance(received, int) or received <= 0:
            return
        total = int(progress["total_chunk_count"])
        held = total if received >= post.media[0].size else min(received // chunk, total)
        if held > int(progress["chunks_sent"]):
            log.info("TikTok holds %d of %d chunks already", held, total, extra=self._log_extra(post))
            progress["chunks_sent"] = held
            await self.context.save_progress(post)

    async def _await_published(self, post: Post, account: Account) -> PublishResult:
        """Poll ``status/fetch`` a bounded number of times, ``asyncio.sleep`` between checks."""
        publish_id = str(post.progress["publish_id"])
        for check in range(self.settings.tiktok_status_checks):
            if check:
                await asyncio.sleep(self.settings.tiktok_status_interval_s)
            status = await self._call(account, lambda token: self.api.status(token, publish_id))
            state = str(status.get("status", ""))
            if state in DONE:
                return self._result(post, status)
            if state == FAILED:
                await self._failed(post, status)
        raise TransientError(
            f"TikTok is still processing post {publish_id} after {self.settings.tiktok_status_checks} "
            "checks; checking again later",
            code="processing",
        )

    async def _failed(self, post: Post, status: dict[str, Any]) -> None:
        reason = str(status.get("fail_reason") or "unknown")
        publish_id = post.progress["publish_id"]
        await self._forget(post)
        message = f"TikTok could not publish post {publish_id}: fail_reason {reason}"
        if reason in RETRY_FAIL_REASONS:
            raise TransientError(message + "; uploading again later", code="fail_reason")
        raise PermanentError(message, code=reason)

    async def _forget(self, post: Post) -> None:
        post.progress = {}
        await self.context.save_progress(post)

    def _result(self, post: Post, status: dict[str, Any]) -> PublishResult:
        """The public post's id and link once TikTok gives them (after moderation, and only for a
        post others can see: get-video-status reference); else the ``publish_id`` names it."""
        publish_id = str(post.progress["publish_id"])
        ids = [str(i) for i in status.get("publicaly_available_post_id") or []]
        extra = {"publish_id": publish_id, "post_ids": ids, "status": str(status.get("status"))}
        username = str(post.progress.get("username", ""))
        if ids:
            url = VIDEO_URL.format(username=username, post_id=ids[0]) if username else None
            return PublishResult(ids[0], url, extra)
        note = (
            "sent to the creator's TikTok inbox: they finish the post in the app"
            if status.get("status") == "SEND_TO_USER_INBOX"
            else "published; TikTok gives no public post id (a private post, or moderation pending)"
        )
        return PublishResult(publish_id, None, extra, note=note)

    # -- after a crash, edits and take-downs -----------------------------------------------------
    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        """By the saved ``publish_id`` (TikTok has no search by caption or marker of ours).

        No ``publish_id``: either no init, or one whose answer was lost before it was saved; such an
        init never received a byte, and TikTok publishes nothing without the whole video. Chunks
        missing by TikTok's own count (a last chunk whose answer timed out counts if TikTok took
        it): nothing will be published either (``publish`` sends them). Whole but still
        processing: it may yet go out, so the question stays open (``TransientError``)."""
        progress = post.progress
        if not progress.get("publish_id"):
            return None
        await self._count_received_chunks(post, account)  # the last chunk's answer may have been lost
        if int(progress.get("chunks_sent", 0)) < int(progress.get("total_chunk_count", 1)):
            return None
        status = await self._call(account, lambda token: self.api.status(token, str(progress["publish_id"])))
        state = str(status.get("status", ""))
        if state in DONE:
            return self._result(post, status)
        if state == FAILED:
            return None
        publish_id = progress["publish_id"]
        raise TransientError(f"TikTok post {publish_id} is still processing ({state})", code=state)

    async def retract(self, previous: PublishResult, account: Account) -> None:
        """TikTok's Content Posting API has no delete endpoint (nor does any other public TikTok API)."""
        post = previous.url or f"publish_id {previous.extra.get('publish_id', previous.external_id)}"
        raise UnsupportedError(
            f"TikTok's Content Posting API cannot delete a post: delete it by hand in the TikTok app, "
            f"signed in as the account {account.name} ({post})",
            code="no_delete_endpoint",
        )

    async def check_account(self, account: Account) -> str | None:
        """Daily: a refresh token within 90 days of its expiry is renewed (the refresh answers a new
        one, with a whole life); one TikTok refuses parks the account with TikTok's reason."""
        if not renewal_due(account):
            return None
        try:
            await self.tokens.renew(account, renewal_due)
        except AuthError as e:
            return e.message
        except TransientError as e:
            log.warning("could not renew the TikTok refresh token of %s: %s", account.name, e.message)
        return None

    # -- calls with a fresh token ----------------------------------------------------------------
    async def _call(self, account: Account, call: Callable[[str], Awaitable[T]]) -> T:
        """``call(access token)``; a token TikTok calls invalid is refreshed once."""
        account = await self.tokens.current(account)
        try:
            return await call(account.secret(ACCESS))
        except TokenRejectedError:
            account = await self.tokens.refresh(account, account.secret(ACCESS))
            return await call(account.secret(ACCESS))

    def _log_extra(self, post: Post) -> dict[str, Any]:
        return {"channel": self.name, "account": post.account, "content_id": post.content_id}
