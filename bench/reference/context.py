"""The little of the runtime's ``Context`` the webhook adapter's ``render`` and body use: the dry
run's context (canonical links as the runtime makes them, nothing persisted) with a real media store
for the presigned links."""

from __future__ import annotations

from loa.channels.preview import _PreviewContext
from loa.media import MediaStore
from loa.settings import LoaSettings


class ReferenceContext(_PreviewContext):
    def __init__(self, settings: LoaSettings, media: MediaStore | None = None) -> None:
        super().__init__(settings)
        self._media = media

    @property
    def media(self) -> MediaStore:
        if self._media is None:  # made on first use: a content without media needs no store
            self._media = MediaStore(self.settings)
        return self._media
