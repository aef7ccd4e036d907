"""The YouTube adapter: one resumable upload per content, streamed from MinIO, scheduled natively."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from loa.channels import (
    Account,
    ChannelAdapter,
    Context,
    LimitError,
    Limits,
    NativeWindow,
    PermanentError,
    Post,
    PublishResult,
    register,
)
from loa.channels.corrections import CorrectionLink
from loa.channels.threads import in_thread
from loa.channels.uploads import UploadBudget
from loa.events import Content, MediaRef, Target
from loa.text import count_utf8_bytes
from services.youtube import render
from services.youtube.comments import YouTubeCommentActions
from services.youtube.quota import QuotaTracker
from services.youtube.settings import YouTubeSettings
from services.youtube.thumbnail import fit_thumbnail

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials

    from services.youtube.api import HttpPool

log = logging.getLogger("loa.youtube")
T = TypeVar("T")

WATCH_URL = "https://www.youtube.com/watch?v="
UPLOADS_PAGES_SEARCHED = 4
"""find_existing looks at the 200 newest uploads (4 pages of 50; 2 quota units a page)."""
VIDEO_TYPES = frozenset(
    {"video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/mpeg", "video/x-matroska"}
)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_MARKER = re.compile(r"loa-[0-9a-f]{16}")
PULLED_BACK = "pulled_back"
"""In ``post.progress``: a hold cleared the video's ``publishAt``; ``publish`` sets it again."""


def marker_for(content_id: str) -> str:
    """The tag that identifies a content's video on its channel."""
    return "loa-" + hashlib.sha256(content_id.encode()).hexdigest()[:16]


def is_marker(tag: str) -> bool:
    return _MARKER.fullmatch(tag) is not None


def kept_status(status: dict[str, Any]) -> dict[str, Any]:
    """The status properties to send back with a ``videos.update`` of ``status`` (left out, the
    platform deletes them: https://developers.google.com/youtube/v3/docs/videos/update)."""
    keys = ("embeddable", "license", "publicStatsViewable", "selfDeclaredMadeForKids")
    return {key: status[key] for key in keys if key in status}


def editable(snippet: dict[str, Any]) -> dict[str, Any]:
    """A snippet read back, without the read-only properties ``videos.update`` does not take."""
    derived = {"thumbnails", "localized", "publishedAt", "channelId", "channelTitle", "liveBroadcastContent"}
    return {key: value for key, value in snippet.items() if key not in derived}


@register
class YouTubeAdapter(YouTubeCommentActions, ChannelAdapter):
    name = "youtube"
    metrics_port = 9104  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    # Title (≤ 100 characters) and tags (≤ 500) are fitted by ``render``; the runtime checks the
    # description, the one counted text, in UTF-8 bytes as YouTube counts it.
    limits = Limits(
        text_max=render.DESCRIPTION_MAX_BYTES,
        count=count_utf8_bytes,
        media_types=VIDEO_TYPES | IMAGE_TYPES,
        video_max_bytes=256 * 1024**3,  # 256 GB (videos.insert mediaUpload.maxSize)
        max_videos=1,
        max_images=1,
    )
    supports_update = True

    def __init__(self, context: Context, settings: YouTubeSettings | None = None) -> None:
        settings = settings or YouTubeSettings()
        super().__init__(context, settings)
        self.settings: YouTubeSettings = settings
        self.quota = QuotaTracker(settings.youtube_daily_quota, settings.youtube_daily_uploads)
        self._service: Any = None
        self._credentials: dict[tuple[str, str], Credentials] = {}
        self._uploads = UploadBudget(settings.youtube_upload_memory_mb * 2**20)
        self._pool: HttpPool | None = None

    def native_window(self, account: Account) -> NativeWindow:
        """``status.publishAt``: a private video goes public at that time; it must lie in the future
        (https://developers.google.com/youtube/v3/docs/videos#status.publishAt; no maximum documented).
        ``youtube_native_min_lead_s`` keeps the upload's own duration out of the way."""
        return NativeWindow(min_lead=timedelta(seconds=self.settings.youtube_native_min_lead_s))

    # -- render ---------------------------------------------------------------------------------
    @classmethod
    def refuse_target(cls, content: Content, target: Target, link: str) -> str | None:
        """An editor's own text is never cut (``render``): one that cannot fit is known at once."""
        if target.text is None:
            return None
        try:
            render.render_description(target.text, link, content.tags, may_shorten=False)
        except ValueError as e:
            return str(e)
        return None

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        videos = [m for m in content.media if m.is_video]
        if not videos:
            raise PermanentError("youtube: the content has no video (media of type video/*)", code="noVideo")
        images = [m for m in content.media if m.is_image]
        summary = target.text or content.summary or render.html_to_text(content.body)
        marker = marker_for(content.id)
        try:
            description = render.render_description(
                summary, self.context.canonical_url(content), content.tags, may_shorten=not target.text
            )
        except ValueError as e:
            raise LimitError(f"youtube: {e}", code="invalidDescription") from e
        options = {**account.options, **target.options}
        snippet: dict[str, Any] = {
            "title": render.render_title(target.title or content.title),
            "description": description,
            "tags": render.render_tags(marker, content.tags),
            "categoryId": str(options.get("category_id", self.settings.youtube_category_id)),
            "defaultLanguage": content.language,
            "defaultAudioLanguage": content.language,
        }
        return Post(
            content_id=content.id,
            version=content.version,
            channel=self.name,
            account=account.name,
            marker=marker,
            title=str(snippet["title"]),
            texts=[description],
            media=[videos[0], *images[:1]],
            payload={
                "snippet": snippet,
                "privacy": str(options.get("privacy", self.settings.youtube_privacy)),
                "made_for_kids": bool(options.get("made_for_kids", self.settings.youtube_made_for_kids)),
            },
            due_at=content.publish_at,
        )

    # -- publish: a resumable upload --------------------------------------------------------------
    async def publish(self, post: Post, account: Account) -> PublishResult:
        if post.progress.get("video_id"):  # uploaded before a crash, not yet recorded, or pulled back
            video_id = str(post.progress["video_id"])
            if await self._own_video(video_id, post.marker, account) is not None:
                if post.progress.get(PULLED_BACK):
                    await self._put_back(post, video_id, account)
                else:
                    await self._reveal(post, video_id, account)
                return self._result(post, video_id)
            post.progress = {}  # deleted or retracted since: upload it anew
        video = post.media[0]
        status = self._status(post, account)
        body = {"snippet": post.payload["snippet"], "status": status}
        # A resumed session keeps the metadata it was opened with.
        scheduled = bool(post.progress.get("scheduled", "publishAt" in status))
        async with self._uploads.hold(2 * min(self.settings.youtube_chunk_size, video.size)):
            resource = await self._upload(post, account, video, body, scheduled)
        video_id = str(resource["id"])
        post.progress = {"video_id": video_id, "size": video.size, "scheduled": scheduled}
        await self.context.save_progress(post)
        log.info("uploaded video %s (%d bytes)", video_id, video.size, extra=self._log_extra(post))
        await self._set_thumbnail(post, video_id, account)
        await self._reveal(post, video_id, account)
        return self._result(post, video_id)

    async def _upload(
        self, post: Post, account: Account, video: MediaRef, body: dict[str, Any], scheduled: bool
    ) -> dict[str, Any]:
        """The resumable upload, streamed from MinIO: a saved session resumes, else a new one opens."""
        from services.youtube.stream import ChunkedUpload, MinioStream

        project = self._project(account)
        creds = self._creds(account)
        stream = MinioStream(self.context.media, video.key, video.size)
        with self._http.authorized(creds) as http:
            try:
                media = ChunkedUpload(
                    stream,
                    mimetype=video.content_type,
                    chunksize=self.settings.youtube_chunk_size,
                    resumable=True,
                )
                request = self.service.videos().insert(
                    part="snippet,status", body=body, media_body=media, notifySubscribers=True
                )
                resumed, resource = await self._resume(post, request, http, video, account)
                if not resumed:
                    self.quota.charge(project, "videos.insert")
                    await self._run(
                        "videos.insert", account, lambda: self._start_session(request, http, video)
                    )
                    await self._save(post, request, video, scheduled)
                while resource is None:
                    _, resource = await self._run(
                        "videos.insert", account, lambda: request.next_chunk(http=http)
                    )
                    if resource is None:  # confirmed up to resumable_progress
                        await self._save(post, request, video, scheduled)
            finally:
                await asyncio.to_thread(stream.close)
        return dict(resource)

    def _status(self, post: Post, account: Account) -> dict[str, Any]:
        """Every upload starts private: a retraction during it must never find the video public.
        An immediate post takes its privacy as the last step (``_reveal``)."""
        status: dict[str, Any] = {"selfDeclaredMadeForKids": post.payload["made_for_kids"]}
        status["privacyStatus"] = "private"
        when = self.native_time(post, account)
        if when is not None:
            status["publishAt"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return status

    async def _reveal(self, post: Post, video_id: str, account: Account) -> None:
        """The last step of an immediate post: the private upload takes its final privacy, unless
        the content was retracted meanwhile (it stays private; the retraction takes it down)."""
        final = str(post.payload["privacy"])
        if final == "private" or post.progress.get("scheduled", self._still_ahead(post)):
            return  # a scheduled video goes public at its publishAt, on the platform's clock
        if await self.context.retract_requested(post):
            log.info(
                "retracted during the upload: video %s stays private", video_id, extra=self._log_extra(post)
            )
            return
        current = await self._get_video(video_id, account, "status")
        if current is None or current["status"].get("privacyStatus") == final:
            return
        await self._set_status(video_id, {**kept_status(current["status"]), "privacyStatus": final}, account)

    @staticmethod
    def _start_session(request: Any, http: Any, video: MediaRef) -> None:
        """Open the upload session (the SDK's own first step), so its URI is saved before any byte."""
        headers = {
            **request.headers,
            "X-Upload-Content-Type": video.content_type,
            "X-Upload-Content-Length": str(video.size),
            "content-length": str(request.body_size),
        }
        resp, content = http.request(request.uri, method=request.method, body=request.body, headers=headers)
        if resp.status != 200 or "location" not in resp:
            from googleapiclient.errors import HttpError

            raise HttpError(resp, content, uri=request.uri.split("?")[0])
        request.resumable_uri = resp["location"]

    async def _resume(
        self, post: Post, request: Any, http: Any, video: MediaRef, account: Account
    ) -> tuple[bool, dict[str, Any] | None]:
        """Point ``request`` at the saved session and the server's offset.

        Returns (resumed, the video if that session already completed).
        """
        session = post.progress.get("session_uri")
        if not session or post.progress.get("size") != video.size:
            return False, None
        found, offset = await self._run("videos.insert", account, lambda: self._query(http, session, video))
        if found is not None:
            return True, found
        if offset is None:
            log.warning("upload session expired; starting a new one", extra=self._log_extra(post))
            return False, None
        request.resumable_uri = session
        request.resumable_progress = offset
        log.info("resuming upload at byte %d of %d", offset, video.size, extra=self._log_extra(post))
        return True, None

    @staticmethod
    def _query(http: Any, session: str, video: MediaRef) -> tuple[dict[str, Any] | None, int | None]:
        """Ask the session how much arrived (``Content-Range: bytes */size``): (video, None) if done,
        (None, offset) if incomplete, (None, None) if the session is gone."""
        headers = {"Content-Range": f"bytes */{video.size}", "Content-Length": "0"}
        resp, content = http.request(session, method="PUT", body=b"", headers=headers)
        if resp.status in (200, 201):
            return json.loads(content), None
        if resp.status == 308:
            ranges = resp.get("range")
            return None, int(ranges.split("-")[1]) + 1 if ranges else 0
        if resp.status in (404, 410):
            return None, None
        from googleapiclient.errors import HttpError

        raise HttpError(resp, content, uri=session.split("?")[0])

    async def _save(self, post: Post, request: Any, video: MediaRef, scheduled: bool) -> None:
        post.progress = {
            "session_uri": request.resumable_uri,
            "offset": request.resumable_progress,
            "size": video.size,
            "scheduled": scheduled,
        }
        await self.context.save_progress(post)

    async def _set_thumbnail(self, post: Post, video_id: str, account: Account) -> None:
        """The content's first image as the custom thumbnail; a failure here does not fail the post."""
        images = [m for m in post.media if m.is_image]
        if not images:
            return
        try:
            from googleapiclient.http import MediaIoBaseUpload

            data, mimetype = await asyncio.to_thread(fit_thumbnail, self.context.media, images[0])
            media = MediaIoBaseUpload(io.BytesIO(data), mimetype=mimetype, resumable=False)
            await self._api(
                "thumbnails.set",
                account,
                lambda http: (
                    self.service.thumbnails().set(videoId=video_id, media_body=media).execute(http=http)
                ),
            )
        except Exception as e:
            log.warning("thumbnail not set: %s", e, extra=self._log_extra(post))

    # -- find_existing, update, retract, confirm --------------------------------------------------
    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        if post.progress.get(PULLED_BACK):
            return None  # private without publishAt until ``publish`` puts it back (harmless twice)
        video_id = post.progress.get("video_id")
        if video_id and await self._own_video(str(video_id), post.marker, account) is not None:
            await self._reveal(post, str(video_id), account)
            return self._result(post, str(video_id))
        session = post.progress.get("session_uri")
        if session and post.media:
            video = post.media[0]
            with self._http.authorized(self._creds(account)) as http:
                found, _ = await self._run(
                    "videos.insert", account, lambda: self._query(http, session, video)
                )
            if found is not None:
                scheduled = post.progress.get("scheduled", self._still_ahead(post))
                post.progress = {"video_id": found["id"], "size": post.media[0].size, "scheduled": scheduled}
                await self.context.save_progress(post)
                await self._reveal(post, str(found["id"]), account)
                return self._result(post, str(found["id"]))
            return None  # an unfinished session: publish resumes it
        found_id = await self._search_uploads(post.marker, account)
        if found_id is None:
            return None
        await self._reveal(post, found_id, account)
        return self._result(post, found_id)

    async def _search_uploads(self, marker: str, account: Account) -> str | None:
        """The newest uploads of the channel whose tags carry ``marker``."""
        channels = await self._api(
            "channels.list",
            account,
            lambda http: self.service.channels().list(part="contentDetails", mine=True).execute(http=http),
        )
        if not channels.get("items"):
            return None
        playlist = channels["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
        page_token: str | None = None
        for _ in range(UPLOADS_PAGES_SEARCHED):
            token = page_token
            page = await self._api(
                "playlistItems.list",
                account,
                lambda http, token=token: (
                    self.service.playlistItems()  # type: ignore[misc]
                    .list(part="contentDetails", playlistId=playlist, maxResults=50, pageToken=token)
                    .execute(http=http)
                ),
            )
            ids = [item["contentDetails"]["videoId"] for item in page.get("items", [])]
            if ids:
                videos = await self._api(
                    "videos.list",
                    account,
                    lambda http, ids=ids: (
                        self.service.videos()  # type: ignore[misc]
                        .list(part="snippet", id=",".join(ids))  # at most 50 ids; no maxResults with id
                        .execute(http=http)
                    ),
                )
                for item in videos.get("items", []):
                    if marker in item["snippet"].get("tags", []):
                        return str(item["id"])
            page_token = page.get("nextPageToken")
            if not page_token:
                return None
        return None

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        current = await self._get_video(previous.external_id, account, "snippet")
        if current is None:
            raise PermanentError(
                f"youtube: video {previous.external_id} no longer exists", code="videoNotFound"
            )
        snippet = editable({**current["snippet"], **post.payload["snippet"]})
        body = {"id": previous.external_id, "snippet": snippet}
        await self._api(
            "videos.update",
            account,
            lambda http: self.service.videos().update(part="snippet", body=body).execute(http=http),
        )
        return previous

    # -- corrections: a dated line on top of the original's description ---------------------------
    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        return True

    async def link_correction(self, link: CorrectionLink, account: Account) -> PublishResult:
        """``videos.update`` (part ``snippet``) of the original with ``Đính chính (dd/mm/yyyy): <link>``
        on top of its description. The snippet read back is sent whole (``editable``): the method
        requires ``title`` and ``categoryId`` and deletes what is left out
        (https://developers.google.com/youtube/v3/docs/videos/update). A description already carrying
        the line is left as it is: never written twice."""
        video_id = link.original.external_id
        current = await self._get_video(video_id, account, "snippet")
        if current is None:
            raise PermanentError(f"youtube: video {video_id} no longer exists", code="videoNotFound")
        snippet = editable(current["snippet"])
        old = str(snippet.get("description", ""))
        try:
            new = render.with_correction_line(
                old, render.correction_line(link.corrected_on, link.url), link.url
            )
        except ValueError as e:
            raise LimitError(f"youtube: {e}", code="invalidDescription") from e
        if new != old:
            body = {"id": video_id, "snippet": {**snippet, "description": new}}
            await self._api(
                "videos.update",
                account,
                lambda http: self.service.videos().update(part="snippet", body=body).execute(http=http),
            )
        return self._link_result(link)

    async def find_correction_link(self, link: CorrectionLink, account: Account) -> PublishResult | None:
        """The line already on top of the original's description, if an interrupted call wrote it."""
        current = await self._get_video(link.original.external_id, account, "snippet")
        description = str(current["snippet"].get("description", "")) if current is not None else ""
        return self._link_result(link) if render.has_correction_line(description, link.url) else None

    @staticmethod
    def _link_result(link: CorrectionLink) -> PublishResult:
        video_id = link.original.external_id
        extra = {"original_id": video_id, "description_line": True}
        return PublishResult(f"{video_id}:description", link.original.url or f"{WATCH_URL}{video_id}", extra)

    async def retract(self, previous: PublishResult, account: Account) -> None:
        mode = str(account.options.get("retract_mode", self.settings.youtube_retract_mode))
        if mode == "delete":
            try:
                await self._api(
                    "videos.delete",
                    account,
                    lambda http: self.service.videos().delete(id=previous.external_id).execute(http=http),
                )
            except PermanentError as e:
                if e.code != "videoNotFound":
                    raise
            return
        current = await self._get_video(previous.external_id, account, "snippet,status")
        if current is None:
            return  # already gone: retracted either way
        tags = current["snippet"].get("tags", [])
        kept = [t for t in tags if not is_marker(t)]
        if current["status"].get("privacyStatus") == "private" and kept == tags:
            return  # retracted before: private and without its marker
        status = kept_status(current["status"])
        status["privacyStatus"] = "private"  # and no publishAt: a scheduled video stays private
        # Without its marker the video is no longer this post's: find_existing will not return a
        # retracted video, and a later publish of the content uploads a new one.
        body = {"id": previous.external_id, "snippet": {**editable(current["snippet"]), "tags": kept}}
        body["status"] = status
        await self._api(
            "videos.update",
            account,
            lambda http: self.service.videos().update(part="snippet,status", body=body).execute(http=http),
        )

    async def confirm(self, previous: PublishResult, account: Account) -> PublishResult | None:
        video = await self._get_video(previous.external_id, account, "status,processingDetails")
        if video is None:
            raise PermanentError(
                f"youtube: video {previous.external_id} no longer exists", code="videoNotFound"
            )
        status = video["status"]
        if status.get("uploadStatus") in {"failed", "rejected", "deleted"}:
            reason = status.get("failureReason") or status.get("rejectionReason") or status["uploadStatus"]
            raise PermanentError(f"youtube: video {previous.external_id} {reason}", code=str(reason))
        if status.get("privacyStatus") == "private" and status.get("publishAt"):
            return None  # still waiting for its publishAt
        return PublishResult(
            external_id=previous.external_id,
            url=previous.url,
            extra={**previous.extra, "privacy": status.get("privacyStatus")},
            scheduled_natively=previous.scheduled_natively,
        )

    # -- a hold: pull back, put back -------------------------------------------------------------
    async def pull_back(self, post: Post, previous: PublishResult, account: Account) -> bool:
        """Clear ``status.publishAt``: the video stays private and nothing publishes it (a
        ``videos.update`` of ``status`` without it deletes it, as the reference documents for a
        property left out). One already public is left alone (False); done twice, nothing changes."""
        video = await self._get_video(previous.external_id, account, "status")
        if video is None:
            raise PermanentError(
                f"youtube: video {previous.external_id} no longer exists", code="videoNotFound"
            )
        status = video["status"]
        if status.get("privacyStatus") != "private":
            return False
        if status.get("publishAt"):
            await self._set_status(
                previous.external_id, {**kept_status(status), "privacyStatus": "private"}, account
            )
        post.progress = {
            **post.progress,
            "video_id": previous.external_id,
            "scheduled": False,
            PULLED_BACK: True,
        }
        await self.context.save_progress(post)
        log.info(
            "pulled back video %s: private, no publishAt", previous.external_id, extra=self._log_extra(post)
        )
        return True

    async def _put_back(self, post: Post, video_id: str, account: Account) -> None:
        """After the release: ``publishAt`` again at the post's own time, or, that time passed (ops
        sent it now), its final privacy at once. Harmless twice."""
        when = self.native_time(post, account)
        if when is None:
            post.progress = {**post.progress, "scheduled": False}
            post.progress.pop(PULLED_BACK, None)
            await self.context.save_progress(post)
            await self._reveal(post, video_id, account)
            return
        current = await self._get_video(video_id, account, "status")
        status = {**kept_status(current["status"] if current else {}), "privacyStatus": "private"}
        status["publishAt"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await self._set_status(video_id, status, account)
        post.progress = {**post.progress, "scheduled": True}
        post.progress.pop(PULLED_BACK, None)
        await self.context.save_progress(post)

    async def _set_status(self, video_id: str, status: dict[str, Any], account: Account) -> None:
        body = {"id": video_id, "status": status}
        await self._api(
            "videos.update",
            account,
            lambda http: self.service.videos().update(part="status", body=body).execute(http=http),
        )

    # -- plumbing ---------------------------------------------------------------------------------
    # google-api-python-client, google-auth and httplib2 (services/youtube/api.py, stream.py) load with
    # the first call, not with the adapter: the ingest makes adapters to check targets and render
    # previews and never calls YouTube (6 MB resident; tests/unit/test_service_imports.py).
    @property
    def service(self) -> Any:
        if self._service is None:
            from services.youtube.api import build_service

            self._service = build_service(self.settings)
        return self._service

    @property
    def _http(self) -> HttpPool:
        """The transports the calls borrow, made by the first (take it on the event loop: not thread-safe)."""
        if self._pool is None:
            from services.youtube.api import HttpPool

            self._pool = HttpPool(self.settings)
        return self._pool

    async def _own_video(self, video_id: str, marker: str, account: Account) -> dict[str, Any] | None:
        """The video, if it still exists and still carries the post's marker (not retracted)."""
        video = await self._get_video(video_id, account, "snippet")
        return video if video is not None and marker in video["snippet"].get("tags", []) else None

    async def _get_video(self, video_id: str, account: Account, parts: str) -> dict[str, Any] | None:
        found = await self._api(
            "videos.list",
            account,
            lambda http: self.service.videos().list(part=parts, id=video_id).execute(http=http),
        )
        items = found.get("items") or []
        return items[0] if items else None

    async def _api(self, method: str, account: Account, fn: Callable[[Any], T]) -> T:
        """One API call, charged to the quota, on a transport of its own while it runs."""
        self.quota.charge(self._project(account), method)
        creds = self._creds(account)
        pool = self._http

        def call() -> T:
            with pool.authorized(creds) as http:
                return fn(http)

        return await self._run(method, account, call)

    async def _run(self, method: str, account: Account, fn: Callable[[], T]) -> T:
        """Run a blocking SDK step off the event loop, its errors mapped onto ours."""
        try:
            result = await in_thread(fn)
        except Exception as e:
            from services.youtube.api import map_error

            raise map_error(e, method, self.quota, self._project(account)) from e
        await self._keep_rotated_token(account, self._creds(account))
        return result

    def _creds(self, account: Account) -> Credentials:
        key = (account.name, hashlib.sha256(account.secret("refresh_token").encode()).hexdigest())
        creds = self._credentials.get(key)
        if creds is None:
            from services.youtube.api import credentials_for

            creds = credentials_for(account, self.settings)
            self._credentials[key] = creds
        return creds

    async def _keep_rotated_token(self, account: Account, creds: Credentials) -> None:
        """Google may hand out a new refresh token on refresh; persist it before it is needed."""
        if creds.refresh_token and creds.refresh_token != account.secret("refresh_token"):
            await self.context.save_credentials(account, {"refresh_token": creds.refresh_token})

    @staticmethod
    def _project(account: Account) -> str:
        """Quota belongs to the OAuth client's project; key it by a hash of the client id."""
        return hashlib.sha256(account.secret("client_id").encode()).hexdigest()[:16]

    def _result(self, post: Post, video_id: str) -> PublishResult:
        return PublishResult(
            external_id=video_id,
            url=WATCH_URL + video_id,
            extra={"marker": post.marker},
            scheduled_natively=bool(post.progress.get("scheduled", self._still_ahead(post))),
        )

    @staticmethod
    def _still_ahead(post: Post) -> bool:
        """Found without progress (after a crash): a video due later was uploaded to be held."""
        return post.due_at is not None and post.due_at > datetime.now(UTC)

    def _log_extra(self, post: Post) -> dict[str, Any]:
        return {
            "content_id": post.content_id,
            "version": post.version,
            "channel": self.name,
            "account": post.account,
        }
