"""The listener's website reader against the real website server (counting into real MinIO)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from loa.channels import Account, AuthError, PermanentError, TransientError
from loa.events.engagement import Metric
from loa.settings import LoaSettings
from services.website.engagement import WebsiteEngagement
from services.website.settings import WebsiteSettings
from tests.website_support import (
    BROWSER,
    KEY,
    counting_server,
    counting_site,
    static_account,
)

pytestmark = pytest.mark.integration


def reader(url: str, token: str) -> WebsiteEngagement:
    settings = WebsiteSettings(
        mode="development", website_views_url=url, website_views_token=SecretStr(token)
    )
    return WebsiteEngagement(settings)


async def test_the_reader_reads_views_and_maps_refusals_to_our_three_errors(
    settings: LoaSettings, tmp_path: Path
) -> None:
    media, access, tokens = await counting_site(settings, tmp_path)
    account = static_account()
    server, _ = counting_server(media, access)
    with server:
        for _ in range(2):
            httpx.get(f"{server.url}/{KEY}", headers=BROWSER)
        listener = reader(server.url, tokens["listener"])
        assert tokens["listener"] not in repr(listener.settings)  # never printed
        seen = await listener.read(account, "/" + KEY)
        assert dict(seen.metrics) == {Metric.VIEWS: 2}  # the website has views, and only views

        with pytest.raises(AuthError) as refused:
            await reader(server.url, tokens["editor"]).read(account, "/" + KEY)
        assert refused.value.code == "forbidden" and tokens["editor"] not in str(refused.value)
        with pytest.raises(AuthError, match="LOA_WEBSITE_VIEWS_TOKEN"):
            await reader(server.url, "").read(account, "/" + KEY)
        with pytest.raises(PermanentError) as gone:
            await listener.read(account, "/2026/12/bai-da-go-6yart404.html")
        assert gone.value.code == "page_not_found"
        wordpress = Account("website", "wp-so-tttt", {}, {"mode": "wordpress"})
        with pytest.raises(PermanentError, match="WordPress"):
            await listener.read(wordpress, "/2026/12/x.html")
    with pytest.raises(TransientError):  # the server is down: try again later
        await listener.read(account, "/" + KEY)
    listener.close()
