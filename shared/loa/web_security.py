"""Browser-facing hardening of Loa's HTTP services: security headers on every answer, API docs with no CDN.

``harden(app)`` is the one call a FastAPI service makes (the tracker today, the ingest next).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
"""Only our own scripts, styles, images and connections; never framed (clickjacking); forms and
``<base>`` stay on this origin. No 'unsafe-inline': pages carry no inline script or style.
(OWASP Content Security Policy Cheat Sheet; MDN "Content-Security-Policy".)"""

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    # no MIME sniffing: a JSON answer or a text file is never run as script (OWASP HTTP Headers Cheat Sheet)
    ("X-Content-Type-Options", "nosniff"),
    # no-referrer rather than strict-origin-when-cross-origin: the dashboard links out to live posts on
    # Facebook, Zalo, YouTube and X, which should not learn the tracker's host; nothing here reads the
    # Referer (browser actions are guarded by SameSite=Strict and a custom header). (MDN "Referrer-Policy")
    ("Referrer-Policy", "no-referrer"),
    # frame-ancestors' predecessor, for browsers without CSP level 2 (OWASP Clickjacking Defense Cheat Sheet)
    ("X-Frame-Options", "DENY"),
)

DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
"""Swagger UI's bundle and stylesheet as the installed ``fastapi-offline`` package ships them."""

DOCS_POLICY = f"{CONTENT_SECURITY_POLICY}; img-src 'self' data:"
"""Swagger UI's stylesheet draws its icons as ``data:`` SVG images; only its page allows them."""

SWAGGER_INIT_JS = """\
// Starts Swagger UI from a file of ours: the page's policy allows no inline script.
(function () {
  "use strict";
  var script = document.currentScript;
  window.ui = SwaggerUIBundle({
    url: script.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
"""


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP answer that does not set its own.

    Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``, which runs the app in another task
    and buffers through a stream: server-sent events (the tracker's live pages) must pass untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def harden(app: FastAPI) -> None:
    """Security headers on every answer, and Swagger UI served from the installed package."""
    app.add_middleware(SecurityHeaders)
    serve_docs_offline(app)


def serve_docs_offline(app: FastAPI) -> None:
    """Replace FastAPI's docs pages, which load Swagger UI and ReDoc from a CDN, by our own.

    A third-party script on an ops page could read everything the page shows, and the CDN is not
    reachable from every network Loa runs in. ReDoc goes: one docs page is enough; the OpenAPI
    JSON stays at ``app.openapi_url``.
    """
    docs_url = app.docs_url or "/docs"
    openapi_url = app.openapi_url or "/openapi.json"
    cdn_pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.router.routes[:] = [
        r for r in app.router.routes if not (isinstance(r, Route) and r.path in cdn_pages)
    ]
    assets = f"{docs_url}/assets"
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(app.title)} — API</title>\n"
        f'<link rel="stylesheet" href="{assets}/swagger-ui.css">\n</head>\n'
        '<body>\n<div id="swagger-ui"></div>\n'
        f'<script src="{assets}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{docs_url}/init.js" data-openapi-url="{escape(openapi_url)}"></script>\n'
        "</body>\n</html>\n"
    )

    async def docs_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    async def docs_init() -> Response:
        return Response(SWAGGER_INIT_JS, media_type="text/javascript")

    app.add_api_route(docs_url, docs_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{docs_url}/init.js", docs_init, methods=["GET"], include_in_schema=False)
    app.mount(assets, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
