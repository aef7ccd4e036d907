"""``python -m services.ingest``: serve the ingest API (default 127.0.0.1:8080)."""

from __future__ import annotations

from loa.logging import configure
from loa.serving import serve_asgi
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()
    configure(settings.log_level)
    serve_asgi(
        create_app(settings), host=settings.ingest_host, port=settings.ingest_port, limit_concurrency=200
    )


if __name__ == "__main__":
    main()
