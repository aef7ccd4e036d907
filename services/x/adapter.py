"""The X adapter: a post (or a numbered thread) with the summary, the website link and hashtags.

X has no native scheduling and no edit: the runtime schedules; ``update`` is unsupported unless
the account option ``correction_as_reply`` is set, which posts the correction as a reply.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any, ClassVar, TypeVar

from loa.channels import (
    Account,
    ChannelAdapter,
    Limits,
    PermanentError,
    Post,
    PublishResult,
    TransientError,
    UnsupportedError,
    register,
)
from loa.channels.corrections import CorrectionLink
from loa.channels.threads import in_thread
from loa.channels.uploads import UploadBudget
from loa.events import Content, MediaRef, Target
from loa.media import Profile, RenditionError
from loa.media.fit import fit_image
from services.x.client import XClient
from services.x.comments import XCommentActions
from services.x.counting import MAX_WEIGHTED_LENGTH, weighted_length
from services.x.oauth2 import ACCESS, OAuth2Tokens, TokenRejectedError, uses_oauth2
from services.x.settings import XSettings
from services.x.threads import UnsplittableError, split_thread

# Media limits: images ≤ 5 MB, up to 4 per post; one video ≤ 512 MB or one GIF ≤ 15 MB
# (docs.x.com/x-api/media/quickstart/best-practices).
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
# X API media upload: images up to 5 MB (JPG, PNG, GIF, WEBP); 4096 px is X's display cap.
IMAGE_PROFILE = Profile("x_image", 4096, 4096, 5 * 1024 * 1024)
IMAGE_MAX_BYTES = IMAGE_PROFILE.max_bytes
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
_NOT_HASHTAG = re.compile(r"[^\w]+")
T = TypeVar("T")
LINK_AS_OPTION, REPLY, QUOTE = "correction_link", "reply", "quote"
"""Target option: a correction replies to its original (the default) or quotes it."""
MEDIA_STATUS_WAIT_MAX_S = 5.0
"""Longest wait between STATUS checks, whatever ``check_after_secs`` says."""


def hashtag(tag: str) -> str:
    """``chuyển đổi số`` → ``#chuyểnđổisố``: X hashtags keep Unicode letters, lose spaces."""
    return "#" + _NOT_HASHTAG.sub("", tag)


@register
class XAdapter(XCommentActions, ChannelAdapter):
    name: ClassVar[str] = "x"
    metrics_port: ClassVar[int] = 9105  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    limits: ClassVar[Limits] = Limits(
        text_max=MAX_WEIGHTED_LENGTH,
        count=weighted_length,
        media_types=IMAGE_TYPES | VIDEO_TYPES,
        image_max_bytes=IMAGE_MAX_BYTES,
        video_max_bytes=512 * 1024 * 1024,
        max_images=4,
        max_videos=1,
        requests_per_period=(100, 900.0),
    )
    supports_update = False
    settings: XSettings

    def __init__(self, context: Any, settings: XSettings | None = None) -> None:
        super().__init__(context, settings or XSettings())
        self._clients: dict[tuple[str, str], XClient] = {}
        self.oauth2 = OAuth2Tokens(self.settings.x_api_url, context, self.settings.x_timeout_s)
        self._uploads = UploadBudget(self.settings.x_upload_memory_mb * 2**20)

    async def aclose(self) -> None:
        await self.oauth2.aclose()  # a token refresh in flight commits its pair first

    def _client(self, account: Account) -> XClient:
        fingerprint = hashlib.sha256(
            "|".join(account.secret(k) for k in sorted(account.credentials)).encode()
        ).hexdigest()
        key = (account.name, fingerprint)  # new credentials → a new client
        if key not in self._clients:
            self._clients[key] = XClient(account, self.settings.x_api_url, self.settings.x_timeout_s)
        return self._clients[key]

    async def _with(self, account: Account, use: Callable[[XClient], T]) -> T:
        """``use(client)`` in a worker thread (a cancelled caller waits for the call under way to end);
        an OAuth 2.0 token X refuses is refreshed once."""
        if not uses_oauth2(account):
            return await in_thread(use, self._client(account))
        account = await self.oauth2.current(account)
        try:
            return await in_thread(use, self._client(account))
        except TokenRejectedError:
            account = await self.oauth2.refresh(account, account.secret(ACCESS))
            return await in_thread(use, self._client(account))

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        text = target.text or content.summary or content.title
        tags = " ".join(hashtag(t) for t in content.tags[:3])
        body = f"{text}\n\n{self.context.canonical_url(content)}" + (f" {tags}" if tags else "")
        try:
            parts = split_thread(body)
        except UnsplittableError as e:
            raise PermanentError(f"text: {e}") from e
        media = [await self._fit(m) for m in _choose_media(content.media)]
        marker = hashlib.sha256(f"{content.id}:{content.version}:{account.name}".encode()).hexdigest()[:16]
        return Post(
            content_id=content.id,
            version=content.version,
            channel=self.name,
            account=account.name,
            marker=marker,
            texts=parts,
            media=media,
            due_at=content.publish_at,
        )

    async def publish(self, post: Post, account: Account) -> PublishResult:
        ids: list[str] = list(post.progress.get("tweet_ids", []))
        media_ids: list[str] = list(post.progress.get("media_ids", []))
        if post.media and not media_ids:
            # Each upload is independent until the post names them (docs.x.com/x-api/media/quickstart/
            # media-upload-chunked): all at once, their ids in the content's order whichever ends first.
            media_ids = await _together(*(self._upload(account, media) for media in post.media))
            post.progress["media_ids"] = media_ids
            await self.context.save_progress(post)
        for index in range(len(ids), len(post.texts)):
            reply_to = ids[-1] if ids else None
            attach = media_ids if index == 0 else []
            create = partial(XClient.create, text=post.texts[index], reply_to=reply_to, media_ids=attach)
            tweet_id = await self._with(account, create)
            ids.append(tweet_id)
            post.progress["tweet_ids"] = ids
            await self.context.save_progress(post)  # a crash mid-thread resumes after this part
        return _result(ids)

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        """X has no hidden marker: match each part's text among the account's recent posts."""
        recent = await self._with(account, lambda c: c.recent(100))
        by_text = {t["text"]: str(t["id"]) for t in recent}
        found: list[str] = []
        for text in post.texts:
            if text not in by_text:
                break
            found.append(by_text[text])
        if len(found) == len(post.texts):
            return _result(found)
        if found:  # part of the thread went out: publish goes on after it
            post.progress["tweet_ids"] = found
            await self.context.save_progress(post)
        return None

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        if not account.options.get("correction_as_reply"):
            raise UnsupportedError("X cannot edit a post; set correction_as_reply to post a correction")
        ids = list(previous.extra.get("tweet_ids", [previous.external_id]))
        correction = split_thread("Đính chính: " + " ".join(post.texts))[0]
        correction_id = await self._with(account, lambda c: c.create(correction, ids[-1], []))
        return PublishResult(
            external_id=previous.external_id,
            url=previous.url,
            extra={**previous.extra, "tweet_ids": [*ids, correction_id]},
        )

    # -- corrections: a reply to (or a quote of) the original's first post ---------------------

    @classmethod
    def refuse_target(cls, content: Content, target: Target, link: str) -> str | None:
        if target.options.get(LINK_AS_OPTION, REPLY) not in (REPLY, QUOTE):
            return f"options.{LINK_AS_OPTION}: {REPLY} or {QUOTE} (how a correction links its original)"
        return None

    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        return True

    @staticmethod
    def correction_text(link: CorrectionLink) -> str:
        """``Đính chính: <title>`` and the correction's link, the title cut to fit one post."""
        headline = link.headline
        while weighted_length(f"{headline}\n{link.url}") > MAX_WEIGHTED_LENGTH:
            headline = headline[:-2] + "…"
        return f"{headline}\n{link.url}"

    async def link_correction(self, link: CorrectionLink, account: Account) -> PublishResult:
        """Reply to the original's first post (``reply.in_reply_to_tweet_id``), or quote it
        (``quote_tweet_id``) when the target option ``correction_link`` is ``quote``."""
        first = link.original.external_id
        quote = link.options.get(LINK_AS_OPTION) == QUOTE
        text = self.correction_text(link)
        create = partial(
            XClient.create,
            text=text,
            reply_to=None if quote else first,
            media_ids=[],
            quote=first if quote else None,
        )
        return self._link_result(link, await self._with(account, create))

    async def find_correction_link(self, link: CorrectionLink, account: Account) -> PublishResult | None:
        """The reply (or quote) among the account's recent posts, by its text."""
        text = self.correction_text(link)
        recent = await self._with(account, lambda c: c.recent(100))
        found = next((str(t["id"]) for t in recent if t["text"] == text), None)
        return None if found is None else self._link_result(link, found)

    @staticmethod
    def _link_result(link: CorrectionLink, tweet_id: str) -> PublishResult:
        as_ = QUOTE if link.options.get(LINK_AS_OPTION) == QUOTE else REPLY
        extra = {"tweet_ids": [tweet_id], "original_id": link.original.external_id, "as": as_}
        return PublishResult(tweet_id, f"https://x.com/i/web/status/{tweet_id}", extra)

    async def retract(self, previous: PublishResult, account: Account) -> None:
        """Delete every post of the thread, replies first."""
        for tweet_id in reversed(list(previous.extra.get("tweet_ids", [previous.external_id]))):
            await self._with(account, partial(XClient.delete, tweet_id=tweet_id))

    async def _fit(self, media: MediaRef) -> MediaRef:
        """An image over 5 MB is re-encoded to fit (an animated GIF is left to the limits check)."""
        if media.content_type == "image/gif" or not media.is_image or media.size <= IMAGE_MAX_BYTES:
            return media
        try:
            return await fit_image(self.context.media, media, IMAGE_PROFILE)
        except RenditionError as e:
            raise PermanentError(f"media: {e}") from e

    async def _upload(self, account: Account, media: MediaRef) -> str:
        """Upload (streamed from MinIO again on each attempt, one call at a time in a worker thread:
        stopped, only the call under way ends), then wait for X to process it: ``check_after_secs``
        between STATUS checks, no thread held while waiting."""
        async with self._uploads.hold(2 * min(self.settings.x_media_chunk_bytes, media.size)):
            init = partial(XClient.initialize, size=media.size, media_type=media.content_type)
            media_id = await self._with(account, init)
            chunks = self._chunks(media)
            index = 0
            while (chunk := await in_thread(next, chunks, None)) is not None:
                await self._with(
                    account, partial(XClient.append, media_id=media_id, index=index, chunk=chunk)
                )
                index += 1
            info = await self._with(account, partial(XClient.finalize, media_id=media_id))
        if not (media.is_image and media.alt):
            await self._processed(account, media_id, info)
            return media_id
        # Alt text once the upload is done ("1. Upload media 2. Call this endpoint 3. Create Tweet":
        # developer.x.com/en/docs/media/upload-media/api-reference/post-media-metadata-create), while
        # X processes it (a GIF): only the post must wait for "succeeded" (STATUS reference, the same).
        describe = self._with(account, partial(XClient.describe, media_id=media_id, alt_text=media.alt))
        await _together(self._processed(account, media_id, info), describe)
        return media_id

    async def _processed(self, account: Account, media_id: str, info: dict[str, Any]) -> None:
        """Wait until X has processed ``media_id`` (nothing to wait for without ``processing_info``)."""
        polls = 0
        while info.get("state") in {"pending", "in_progress"}:
            if polls == self.settings.x_status_poll_max:
                raise TransientError(
                    f"X is still processing media {media_id}; uploading again later", code="media"
                )
            await asyncio.sleep(min(float(info.get("check_after_secs", 1)), MEDIA_STATUS_WAIT_MAX_S))
            info = await self._with(account, partial(XClient.status, media_id=media_id))
            polls += 1
        if info.get("state") == "failed":
            raise PermanentError(
                f"X could not process media {media_id}: {info.get('error')}", code="media_failed"
            )

    def _chunks(self, media: MediaRef) -> Iterator[bytes]:
        return self.context.media.iter_bytes(media.key, chunk=self.settings.x_media_chunk_bytes)


def _result(ids: list[str]) -> PublishResult:
    """The thread's first post is the delivery: its URL needs no user name or id (no users/me call)."""
    return PublishResult(
        external_id=ids[0], url=f"https://x.com/i/web/status/{ids[0]}", extra={"tweet_ids": ids}
    )


async def _together(*steps: Awaitable[T]) -> list[T]:
    """``steps`` at once, their results in order; the first to fail stops the others (each call under
    way ends first: ``in_thread``) and is raised as it is, an auth, transient or permanent error."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()  # nothing for a task already done
        await asyncio.gather(*tasks, return_exceptions=True)
    failed = [t.exception() for t in tasks if t in done and not t.cancelled() and t.exception()]
    if failed:
        raise failed[0]  # type: ignore[misc]
    return [task.result() for task in tasks]


def _choose_media(media: list[MediaRef]) -> list[MediaRef]:
    """One video (or GIF) if there is one, else up to four images."""
    videos = [m for m in media if m.content_type in VIDEO_TYPES]
    if videos:
        return videos[:1]
    gifs = [m for m in media if m.content_type == "image/gif"]
    if gifs:
        return gifs[:1]
    return [m for m in media if m.content_type in IMAGE_TYPES][:4]
