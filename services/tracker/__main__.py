"""``python -m services.tracker``: the tracker API, dashboard and consumers on 127.0.0.1:8081."""

from __future__ import annotations

from loa.logging import configure
from loa.serving import serve_asgi
from services.tracker.app import create_app
from services.tracker.settings import TrackerSettings

if __name__ == "__main__":
    settings = TrackerSettings()
    configure(settings.log_level)
    serve_asgi(create_app(settings), host=settings.tracker_host, port=settings.tracker_port)
