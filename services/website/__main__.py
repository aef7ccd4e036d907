"""``python -m services.website``: the website publisher (shared runtime) plus the read-only server."""

from loa.publisher.main import run
from services.website.adapter import WebsiteAdapter
from services.website.server import serve_in_background
from services.website.settings import WebsiteSettings

if __name__ == "__main__":
    settings = WebsiteSettings()
    if settings.website_serve:
        serve_in_background(settings)
    run(WebsiteAdapter, settings)
