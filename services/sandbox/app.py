"""The sandbox HTTP app: the control API plus one router per emulated platform."""

from __future__ import annotations

from fastapi import FastAPI

from services.sandbox import control

# Each emulator is a module of this package exposing ``router``; add one line per platform.
PLATFORM_ROUTERS: list[str] = ["youtube"]


def build_app() -> FastAPI:
    import importlib

    app = FastAPI(title="Loa sandbox: platform emulators", version="1")
    app.include_router(control.router)
    for module in PLATFORM_ROUTERS:
        app.include_router(importlib.import_module(f"services.sandbox.{module}").router)
    return app


app = build_app()
