"""The one check of a rendered post against its channel's declared ``Limits``.

The runtime runs it after ``render`` and before any I/O (intake, the dry run), and the adapter
contract suite runs it after ``render`` too: an adapter never repeats it. An adapter refuses at
render only what ``Limits`` cannot say (e.g. a webhook body over 1 MB), and may cut or split a
text to fit (X's threads, YouTube's description) where the platform's readers expect that.
"""

from __future__ import annotations

from loa.channels.base import Limits, Post
from loa.channels.errors import LimitError

MB = 1024 * 1024


def _in_mb(size: int) -> str:
    """`` (50 MB)`` after a byte count of a megabyte or more: the size an editor recognises."""
    return f" ({round(size / MB, 1):g} MB)" if size >= MB else ""


def check_limits(post: Post, limits: Limits) -> None:
    """Raise ``LimitError`` naming the field and the reason if the post breaks a declared limit."""
    if limits.title_max is not None and post.title is not None:
        n = limits.count(post.title)
        if n > limits.title_max:
            raise LimitError(f"title: {n} characters, the channel allows {limits.title_max}")
    if limits.text_max is not None:
        for index, text in enumerate(post.texts):
            n = limits.count(text)
            if n > limits.text_max:
                where = "text" if len(post.texts) == 1 else f"texts[{index}]"
                raise LimitError(f"{where}: {n} characters, the channel allows {limits.text_max}")
    images = [m for m in post.media if m.is_image]
    videos = [m for m in post.media if m.is_video]
    for index, media in enumerate(post.media):
        if limits.media_types and media.content_type not in limits.media_types:
            allowed = ", ".join(sorted(limits.media_types))
            raise LimitError(
                f"media[{index}]: type {media.content_type} is not accepted (allowed: {allowed})"
            )
        cap = limits.image_max_bytes if media.is_image else limits.video_max_bytes
        if cap is not None and media.size > cap:
            size = f"{media.size} bytes{_in_mb(media.size)}"
            raise LimitError(f"media[{index}]: {size}, the channel allows {cap}{_in_mb(cap)}")
    if len(images) > limits.max_images:
        raise LimitError(f"media: {len(images)} images, the channel allows {limits.max_images}")
    if len(videos) > limits.max_videos:
        raise LimitError(f"media: {len(videos)} videos, the channel allows {limits.max_videos}")
