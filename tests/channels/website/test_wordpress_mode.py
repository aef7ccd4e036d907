"""WordPress mode against the sandbox's WordPress emulator (real HTTP, real MinIO for media)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from loa.channels import Account, AuthError, PermanentError, Secret, TransientError
from loa.events import utcnow
from loa.settings import LoaSettings
from services.sandbox.app import build_app
from services.sandbox.frame import Fault, sandbox
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.website_support import FakeContext, RunningServer, article, make_media, store_image

pytestmark = pytest.mark.integration

PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"  # WordPress shows application passwords in groups of 4


@pytest.fixture(scope="module")
def wp_url() -> Iterator[str]:
    with RunningServer(app=build_app()) as server:
        yield server.url + "/wordpress"


@pytest.fixture
def adapter(settings: LoaSettings, wp_url: str) -> WebsiteAdapter:
    sandbox.reset()
    return WebsiteAdapter(
        FakeContext(make_media(settings)),
        WebsiteSettings(**settings.model_dump(), website_wordpress_url=wp_url),
    )


def wp_account(user: str = "bientap", password: str = PASSWORD) -> Account:
    return Account(
        "website",
        "wp",
        {"username": Secret(user), "application_password": Secret(password)},
        {"mode": "wordpress"},
    )


async def test_publish_with_featured_image_update_and_trash(adapter: WebsiteAdapter, wp_url: str) -> None:
    account = wp_account()
    image = store_image(adapter.context.media, alt="Ảnh đại diện bài viết")
    content = article("01JD5Z8Q4M9R3T7V2X6YWPR001", media=[image], account="wp")
    post = await adapter.render(content, content.targets[0], account)
    assert await adapter.find_existing(post, account) is None
    result = await adapter.publish(post, account)
    assert not result.scheduled_natively
    async with httpx.AsyncClient(auth=("bientap", PASSWORD)) as http:
        live = (
            await http.get(f"{wp_url}/wp-json/wp/v2/posts/{result.external_id}", params={"context": "edit"})
        ).json()
        assert live["status"] == "publish"
        assert live["title"]["raw"].startswith("Đẩy mạnh chuyển đổi số")
        assert live["featured_media"] > 0
        assert live["slug"].endswith("-6ywpr001")
        assert result.url == live["link"]
        media = [r.data for r in sandbox.list("wordpress", "media")]
        assert media == [
            {
                "id": live["featured_media"],
                "filename": f"{image.sha256[:16]}.png",
                "size": image.size,
                "mime": "image/png",
            }
        ]
        found = await adapter.find_existing(post, account)
        assert found is not None and found.external_id == result.external_id

        changed = article(
            "01JD5Z8Q4M9R3T7V2X6YWPR001",
            version=2,
            media=[image],
            account="wp",
            title="Đính chính số liệu chuyển đổi số",
        )
        post2 = await adapter.render(changed, changed.targets[0], account)
        post2.progress = dict(post.progress)  # the runtime keeps the job's progress: no second upload
        updated = await adapter.update(post2, result, account)
        assert updated.external_id == result.external_id
        assert len(sandbox.list("wordpress", "media")) == 1
        live = (
            await http.get(f"{wp_url}/wp-json/wp/v2/posts/{result.external_id}", params={"context": "edit"})
        ).json()
        assert live["title"]["raw"] == "Đính chính số liệu chuyển đổi số"

        await adapter.retract(updated, account)
        trashed = (
            await http.get(f"{wp_url}/wp-json/wp/v2/posts/{result.external_id}", params={"context": "edit"})
        ).json()
        assert trashed["status"] == "trash"  # trashed, not deleted: an editor may restore it
        await adapter.retract(updated, account)  # 410 rest_already_trashed: already down, fine


async def test_plain_text_title_and_summary_reach_wordpress_escaped(
    adapter: WebsiteAdapter, wp_url: str
) -> None:
    """WordPress renders ``title`` and ``excerpt`` as HTML (REST handbook, posts: ``title.rendered``)."""
    account = wp_account()
    title = "Tập huấn: <script> và onerror= không phải tin, lạm phát <4% & tăng trưởng >6,5%"
    content = article("01JD5Z8Q4M9R3T7V2X6YWPR003", account="wp", title=title, summary=title)
    result = await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    async with httpx.AsyncClient(auth=("bientap", PASSWORD)) as http:
        live = (
            await http.get(f"{wp_url}/wp-json/wp/v2/posts/{result.external_id}", params={"context": "edit"})
        ).json()
    escaped = (
        "Tập huấn: &lt;script&gt; và onerror= không phải tin, lạm phát &lt;4% &amp; tăng trưởng &gt;6,5%"
    )
    assert live["title"]["raw"] == escaped
    assert live["excerpt"]["rendered"] == f"<p>{escaped}</p>"
    assert live["slug"].startswith("tap-huan-script-va-onerror")


async def test_scheduled_post_goes_future_then_live(adapter: WebsiteAdapter) -> None:
    account = wp_account()
    content = article("01JD5Z8Q4M9R3T7V2X6YWPR002", account="wp", publish_at=utcnow() + timedelta(hours=2))
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    assert result.scheduled_natively
    assert await adapter.confirm(result, account) is None  # not live yet
    sandbox.clock_offset += timedelta(hours=2, minutes=1)
    live = await adapter.confirm(result, account)
    assert live is not None and live.extra["status"] == "publish"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (
            Fault(
                "wordpress",
                503,
                {"code": "internal_server_error", "message": "Lỗi máy chủ", "data": {"status": 503}},
                headers={"Retry-After": "30"},
            ),
            TransientError,
        ),
        (
            Fault(
                "wordpress",
                400,
                {
                    "code": "rest_invalid_param",
                    "message": "Invalid parameter(s): status",
                    "data": {"status": 400},
                },
            ),
            PermanentError,
        ),
    ],
)
async def test_errors_are_mapped(adapter: WebsiteAdapter, fault: Fault, error: type[Exception]) -> None:
    account = wp_account()
    content = article("01JD5Z8Q4M9R3T7V2X6YWPR003", account="wp")
    post = await adapter.render(content, content.targets[0], account)
    sandbox.plan(fault)
    with pytest.raises(error) as raised:
        await adapter.publish(post, account)
    if isinstance(raised.value, TransientError):
        assert raised.value.retry_at is not None
    assert raised.value.code == fault.body["code"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("user", "password", "code"),
    [
        ("contributor-lan", PASSWORD, "rest_cannot_publish"),
        ("bientap", "revoked0revoked0revoked0", "incorrect_password"),
    ],
)
async def test_auth_failures_need_a_human(
    adapter: WebsiteAdapter, user: str, password: str, code: str
) -> None:
    account = wp_account(user, password)
    content = article("01JD5Z8Q4M9R3T7V2X6YWPR004", account="wp")
    post = await adapter.render(content, content.targets[0], account)
    with pytest.raises(AuthError) as raised:
        await adapter.publish(post, account)
    assert raised.value.code == code
    assert password.replace(" ", "") not in str(raised.value) and "Basic" not in str(raised.value)


async def test_tags_and_unit_become_wordpress_tags_and_a_category(
    adapter: WebsiteAdapter, wp_url: str
) -> None:
    account = wp_account()
    tags = ["Chuyển đổi số", "Đắk Lắk & Tây Nguyên"]
    ids = []
    for n, cid in enumerate(("01JD5Z8Q4M9R3T7V2X6YWPT001", "01JD5Z8Q4M9R3T7V2X6YWPT002")):
        content = article(cid, account="wp", tags=tags[: n + 1], unit="Sở Thông tin và Truyền thông")
        post = await adapter.render(content, content.targets[0], account)
        ids.append((await adapter.publish(post, account)).external_id)
    async with httpx.AsyncClient(auth=("bientap", PASSWORD)) as http:
        api = f"{wp_url}/wp-json/wp/v2"
        posts = [(await http.get(f"{api}/posts/{i}")).json() for i in ids]
        names = {
            t: {term["id"]: term["name"] for term in (await http.get(f"{api}/{t}")).json()}
            for t in ("tags", "categories")
        }
    # the second post reuses the first one's terms: one term per name, never a duplicate
    assert [[names["tags"][i] for i in p["tags"]] for p in posts] == [tags[:1], tags]
    assert posts[0]["tags"][0] == posts[1]["tags"][0]
    assert [[names["categories"][i] for i in p["categories"]] for p in posts] == [
        ["Sở Thông tin và Truyền thông"]
    ] * 2
    assert sorted(r.data["name"] for r in sandbox.list("wordpress", "term")) == sorted(
        [*tags, "Sở Thông tin và Truyền thông"]
    )


async def test_the_emulator_takes_only_existing_term_ids_and_editors_create_terms(wp_url: str) -> None:
    api = f"{wp_url}/wp-json/wp/v2"
    async with httpx.AsyncClient() as http:
        refused = await http.post(
            f"{api}/tags", json={"name": "Dịch vụ công"}, auth=("contributor-an", PASSWORD)
        )
        assert refused.status_code == 403 and refused.json()["code"] == "rest_cannot_create"
        made = await http.post(f"{api}/tags", json={"name": "Dịch vụ công"}, auth=("bientap", PASSWORD))
        again = await http.post(f"{api}/tags", json={"name": "dịch vụ công"}, auth=("bientap", PASSWORD))
        assert again.status_code == 400 and again.json()["data"]["term_id"] == made.json()["id"]
        bad = await http.post(
            f"{api}/posts", json={"title": "Thông báo", "tags": [987654]}, auth=("bientap", PASSWORD)
        )
        assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"
