"""``python -m services.listener``: the listener on 127.0.0.1:9108 (health and metrics)."""

from __future__ import annotations

import uvicorn

from loa.logging import configure
from services.listener.app import create_app
from services.listener.settings import ListenerSettings

if __name__ == "__main__":
    settings = ListenerSettings()
    configure(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.listener_host,
        port=settings.listener_port,
        log_config=None,
        access_log=False,
    )
