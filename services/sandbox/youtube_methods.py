"""The YouTube Data API methods the emulator serves: their query parameters and ``part`` names.

Taken from the discovery document google-api-python-client ships
(``googleapiclient/discovery_cache/documents/youtube.v3.json``) and checked against it by
``tests/channels/youtube/test_youtube_discovery.py``: each method's required parameters are the
document's, each parameter read is one the document lists (or a protocol parameter of the upload
and JSON transport), and each part served is a property of the method's resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import QueryParams


@dataclass(frozen=True)
class Method:
    resource: str
    """The discovery schema the method's items are (``Video``, ``Channel``, ``PlaylistItem``)."""
    required: frozenset[str]
    reads: frozenset[str]
    parts: frozenset[str] = frozenset()


PROTOCOL = frozenset({"uploadType", "upload_id", "alt"})
"""Query parameters of the transport, not of a method: the resumable upload protocol
(https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol) and ``alt=json``,
which google-api-python-client adds to every call."""

METHODS: dict[str, Method] = {
    "videos.insert": Method(
        "Video",
        frozenset({"part"}),
        frozenset({"part", "notifySubscribers"}),
        frozenset({"id", "snippet", "status", "processingDetails", "fileDetails"}),
    ),
    "videos.list": Method(
        "Video",
        frozenset({"part"}),
        frozenset({"part", "id", "maxResults"}),
        frozenset({"id", "snippet", "status", "processingDetails", "fileDetails", "statistics"}),
    ),
    "videos.update": Method(
        "Video", frozenset({"part"}), frozenset({"part"}), frozenset({"id", "snippet", "status"})
    ),
    "videos.delete": Method("Video", frozenset({"id"}), frozenset({"id"})),
    "thumbnails.set": Method("ThumbnailSetResponse", frozenset({"videoId"}), frozenset({"videoId"})),
    "channels.list": Method(
        "Channel", frozenset({"part"}), frozenset({"part", "mine"}), frozenset({"id", "contentDetails"})
    ),
    "commentThreads.list": Method(
        "CommentThread",
        frozenset({"part"}),
        frozenset({"part", "videoId", "maxResults", "pageToken", "order", "textFormat"}),
        frozenset({"id", "snippet"}),
    ),
    "comments.insert": Method(
        "Comment", frozenset({"part"}), frozenset({"part"}), frozenset({"id", "snippet"})
    ),
    "comments.list": Method(
        "Comment",
        frozenset({"part"}),
        frozenset({"part", "parentId", "maxResults", "pageToken", "textFormat"}),
        frozenset({"id", "snippet"}),
    ),
    "comments.setModerationStatus": Method(
        "Comment", frozenset({"id", "moderationStatus"}), frozenset({"id", "moderationStatus"})
    ),
    "playlistItems.list": Method(
        "PlaylistItem",
        frozenset({"part"}),
        frozenset({"part", "playlistId", "maxResults", "pageToken"}),
        frozenset({"id", "snippet", "contentDetails"}),
    ),
}


class BadRequestError(Exception):
    """A 400 the emulator answers: Google's ``reason`` and message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def checked_parts(query: QueryParams, name: str) -> set[str]:
    """The call's required parameters and ``part`` names checked (else ``BadRequestError``); the parts."""
    method = METHODS[name]
    for param in sorted(method.required):
        if not query.get(param):
            raise BadRequestError("required", f"Required parameter: {param}")
    if not method.parts:
        return set()
    parts = {p.strip() for p in query.get("part", "").split(",") if p.strip()}
    if unknown := parts - method.parts:
        raise BadRequestError(
            "unexpectedPart",
            f"The request specifies an unexpected value for the part parameter: {','.join(sorted(unknown))}",
        )
    if name == "videos.list" and query.get("id") and query.get("maxResults"):
        # The document: maxResults "is not supported for use in conjunction with the id parameter".
        raise BadRequestError("incompatibleParameters", "maxResults cannot be used with id.")
    return parts
