"""The runtime's check of a rendered post against the channel's declared limits (before any I/O)."""

from __future__ import annotations

from loa.channels import LimitError, Limits, Post


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
            raise LimitError(f"media[{index}]: {media.size} bytes, the channel allows {cap}")
    if len(images) > limits.max_images:
        raise LimitError(f"media: {len(images)} images, the channel allows {limits.max_images}")
    if len(videos) > limits.max_videos:
        raise LimitError(f"media: {len(videos)} videos, the channel allows {limits.max_videos}")
