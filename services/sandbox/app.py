"""The sandbox HTTP app: the control API, the reader page and one router per emulated platform."""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from services.sandbox import control, reader
from services.sandbox.frame import Answer, LateAnswers, answer

# Each emulator is a module of this package exposing ``router``; add one line per platform.
PLATFORM_ROUTERS: list[str] = [
    "webhook",
    "oauth_consent",
    "facebook_login",
    "facebook",
    "facebook_comments",
    "facebook_insights",
    "x",
    "x_replies",
    "x_oauth2",
    "zalo",
    "youtube",
    "youtube_comments",
    "google_oauth",
    "wordpress",
    "tiktok",
    "tiktok_oauth",
    "engagement",
]


def build_app() -> FastAPI:
    app = FastAPI(title="Loa sandbox: platform emulators", version="1")
    app.add_exception_handler(Answer, answer)
    app.add_middleware(LateAnswers)
    app.include_router(control.router)
    for module in PLATFORM_ROUTERS:
        app.include_router(importlib.import_module(f"services.sandbox.{module}").router)
    app.include_router(reader.router)
    return app


app = build_app()
