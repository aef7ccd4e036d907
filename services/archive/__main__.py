"""``python -m services.archive``: the archiver on 127.0.0.1:9110 (health and metrics)."""

from __future__ import annotations

from loa.archive.settings import ArchiveSettings
from loa.logging import configure
from loa.serving import serve_asgi
from services.archive.app import create_app

if __name__ == "__main__":
    settings = ArchiveSettings()
    configure(settings.log_level)
    serve_asgi(create_app(settings), host=settings.archive_host, port=settings.archive_port)
