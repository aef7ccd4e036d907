"""Media in MinIO: content-addressed, streamed, checked against its sha256."""

from loa.media.store import IntegrityError, MediaStore, StoredObject

__all__ = ["IntegrityError", "MediaStore", "StoredObject"]
