"""``python -m services.listener``: the listener on 127.0.0.1:9108 (health and metrics)."""

from __future__ import annotations

from loa.logging import configure
from loa.serving import serve_asgi
from services.listener.app import create_app
from services.listener.settings import ListenerSettings

if __name__ == "__main__":
    settings = ListenerSettings()
    configure(settings.log_level)
    serve_asgi(create_app(settings), host=settings.listener_host, port=settings.listener_port)
