"""The website server counts article views itself, keeps them in the private bucket, and answers for
them only to a service token (services/website/views.py, views_api.py). Real MinIO."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from loa.media import MediaStore
from loa.settings import LoaSettings
from services.website.site.bucket import SiteBucket
from services.website.views import PREFIX, PageViews
from tests.website_support import BROWSER, KEY, counting_server, counting_site, make_media, published

pytestmark = pytest.mark.integration
GOOGLEBOT = {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}


def stored(media: MediaStore) -> dict[str, int]:
    """The count objects in the private bucket: replica → its views of the page."""
    bucket = SiteBucket(media.client, media.bucket)
    found = {}
    for o in bucket.iter_objects(f"{PREFIX}{KEY}/"):
        found[o.key.rsplit("/", 1)[-1]] = int(json.loads(bucket.get(o.key) or b"{}")["views"])
    return found


def views(url: str, token: str, path: str = "/" + KEY) -> httpx.Response:
    return httpx.get(
        f"{url}/_api/v1/views", params={"path": path}, headers={"Authorization": f"Bearer {token}"}
    )


async def test_views_are_counted_by_the_rule_kept_per_replica_and_summed_across_restarts(
    settings: LoaSettings, tmp_path: Path
) -> None:
    media, access, tokens = await counting_site(settings, tmp_path)
    server, counts = counting_server(media, access)
    with server:
        page = httpx.get(f"{server.url}/{KEY}", headers=BROWSER)
        assert page.status_code == 200 and "Đà Nẵng" in page.text
        etag = page.headers["etag"]
        assert httpx.get(f"{server.url}/{KEY}", headers={**BROWSER, "If-None-Match": etag}).status_code == 304
        httpx.get(f"{server.url}/{KEY}", headers=BROWSER)
        assert httpx.head(f"{server.url}/{KEY}", headers=BROWSER).status_code == 200  # not a view
        assert httpx.get(f"{server.url}/{KEY}", headers=GOOGLEBOT).status_code == 200  # not a view
        assert httpx.get(f"{server.url}/{KEY}").status_code == 200  # httpx's own agent: not a view
        assert httpx.get(f"{server.url}/", headers=BROWSER).status_code in {200, 404}  # not an article
        answer = views(server.url, tokens["listener"])
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"path": "/" + KEY, "views": 3}
        assert stored(media) == {}  # no write per request: the counts wait for the flush
    # stopping writes this replica's count, once, in the private bucket (never the public one)
    assert stored(media) == {counts.replica: 3}
    assert not list(SiteBucket(media.client, media.website_bucket).iter_objects(PREFIX))

    # a second replica (or the same server restarted) counts on in an object of its own
    again, second = counting_server(media, access, flush_s=0.2)
    with again:
        for _ in range(2):
            httpx.get(f"{again.url}/{KEY}", headers=BROWSER)
        assert views(again.url, tokens["listener"]).json()["views"] == 5
        assert httpx.get(f"{again.url}/{PREFIX}{KEY}/{counts.replica}").status_code == 404  # not public
    assert stored(media) == {counts.replica: 3, second.replica: 2}
    assert PageViews(SiteBucket(media.client, media.bucket)).total(KEY) == 5


async def test_the_counts_answer_only_a_reader_of_every_unit_with_clear_errors(
    settings: LoaSettings, tmp_path: Path
) -> None:
    media, access, tokens = await counting_site(settings, tmp_path)
    server, _ = counting_server(media, access)
    with server:
        bare = httpx.get(f"{server.url}/_api/v1/views", params={"path": "/" + KEY})
        assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
        assert bare.json()["error"]["code"] == "unauthorized"
        forged = views(server.url, "loa_sa_" + "x" * 43)
        assert forged.status_code == 401 and "x" * 43 not in forged.text
        editor = views(server.url, tokens["editor"])
        assert editor.status_code == 403
        assert "every unit" in editor.json()["error"]["message"] and tokens["editor"] not in editor.text
        index = views(server.url, tokens["listener"], "/chu-de/chuyen-doi-so/")
        assert index.status_code == 400
        assert index.json()["error"]["fields"] == [
            {"field": "path", "reason": "not an article page's path (/<yyyy>/<mm>/<name>.html)"}
        ]
        missing = views(server.url, tokens["listener"], "/2026/12/khong-co-bai-nay-6yart999.html")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "page_not_found"
        assert views(server.url, tokens["listener"]).json()["views"] == 0  # published, not read yet


async def test_a_token_table_that_cannot_be_read_is_a_503_not_a_500(
    settings: LoaSettings, tmp_path: Path
) -> None:
    media = make_media(settings)
    published(media)
    never_migrated = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    server, _ = counting_server(media, never_migrated)
    with server:
        answer = views(server.url, "loa_sa_" + "y" * 43)
        assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
        assert answer.json()["error"]["code"] == "tokens_unavailable" and "y" * 43 not in answer.text
        assert httpx.get(f"{server.url}/{KEY}", headers=BROWSER).status_code == 200  # the site still serves
