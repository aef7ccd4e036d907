"""Media in MinIO: content-addressed, streamed, checked against its sha256; probed; renditions."""

from loa.media.probe import MediaInfo, probe
from loa.media.renditions import PROFILES, Profile, RenditionError
from loa.media.store import (
    IntegrityError,
    MediaStore,
    Rendition,
    StoredObject,
    missing_object,
    public_media_key,
)

__all__ = [
    "PROFILES",
    "IntegrityError",
    "MediaInfo",
    "MediaStore",
    "Profile",
    "Rendition",
    "RenditionError",
    "StoredObject",
    "missing_object",
    "probe",
    "public_media_key",
]
