"""The stage of the incident drill (``test_incident_drill.py``): the five channels' publishers, the
ingest and the tracker on the real stack, one account of each channel, and the drill's contents.

Every publisher runs in this process (``support.ChannelRun``, its own SQLite job store) on the test's
topics; the sandbox (in this process too) stands for the platforms. Nothing is natively scheduled:
the contents are due within a minute, under Facebook's and YouTube's lead times, so Loa keeps them
in its job store until their time (the native pull-back has its own test, test_hold_native.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from loa.access.principal import Role
from loa.events import MediaRef
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.ingest.app import create_app as create_ingest
from services.ingest.settings import ClientToken, IngestSettings
from services.tracker.settings import TrackerSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from services.x.adapter import XAdapter
from services.x.settings import XSettings
from services.zalo.adapter import ZaloAdapter
from services.zalo.settings import ZaloSettings
from tests.channels.youtube.support import TlsSandbox
from tests.e2e.support import ChannelRun, fast_settings, jpeg, put_media, small_video, youtube_run
from tests.integration.tracker.support import tracker_settings
from tests.support.live import serve

UNIT_A = "Sở Thông tin và Truyền thông Đà Nẵng"
UNIT_B = "Sở Y tế Đà Nẵng"
ACCOUNTS = {
    "facebook": "trang-tp-da-nang",
    "zalo": "oa-da-nang",
    "youtube": "kenh-da-nang",
    "x": "danang_gov",
    "website": "cong-ttdt",
}
CHANNELS = tuple(ACCOUNTS)
SOCIAL = ("facebook", "zalo", "youtube", "x")

OPERATOR, SPOKESPERSON, VIEWER = "truc-ban", "nguoi-phat-ngon", "theo-doi"
TRACKER_TOKENS: dict[str, dict[str, Any]] = {
    OPERATOR: {"token": "truc-ban-token-0123456789abcdef-0123456789", "role": "operator"},
    SPOKESPERSON: {
        "token": "nguoi-phat-ngon-token-0123456789abcdef-01234",
        "role": "spokesperson",
        "units": [UNIT_A],
    },
    VIEWER: {"token": "theo-doi-token-0123456789abcdef-0123456789", "role": "viewer"},
}
CMS, INGEST_SPOKESPERSON = "cms", "nguoi-phat-ngon"


def tracker_auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TRACKER_TOKENS[who]['token']}"}


@dataclass(frozen=True)
class Planned:
    """One of the drill's contents: what the CMS submits."""

    id: str
    unit: str
    title: str
    channels: tuple[str, ...]
    publish_at: datetime

    @property
    def marker(self) -> str:
        """The words of its title no other content has: how its posts are found on the platforms."""
        return self.title.split(":", 1)[0]


def _titles(unit_code: str, subjects: list[str]) -> list[str]:
    return [f"Thông báo số {i:02d}/{unit_code}: {s}" for i, s in enumerate(subjects, start=1)]


TITLES_A = _titles(
    "STTTT",
    [
        "Đà Nẵng ghi nhận thiệt hại do bão số 13",
        "Lịch đối thoại trực tuyến với doanh nghiệp công nghệ",
        "Hướng dẫn cài đặt ứng dụng Công dân số Đà Nẵng",
        "Kết quả Chỉ số chuyển đổi số cấp quận, huyện",
        "Đường dây nóng 1022 tiếp nhận phản ánh 24/7",
        "Khai trương điểm phát Wi-Fi miễn phí ở Sơn Trà",
        "Tuyển chọn sản phẩm số tiêu biểu năm 2026",
        "Thông tin về tần số phát thanh khẩn cấp",
        "Cảnh báo tin nhắn giả mạo cơ quan nhà nước",
        "Hội thảo an toàn thông tin cho trường học",
    ],
)
TITLES_B = _titles(
    "SYT",
    [
        "Lịch tiêm vắc xin sởi tại Đồng Hới và Đông Giang",
        "Bệnh viện Đà Nẵng mở thêm khoa Đột quỵ",
        "Khuyến cáo phòng sốt xuất huyết mùa mưa",
        "Danh sách nhà thuốc trực đêm dịp cuối tuần",
        "Đợt khám sức khỏe miễn phí cho người cao tuổi",
        "Kết quả kiểm tra an toàn thực phẩm bếp ăn tập thể",
        "Tăng cường trực cấp cứu sau bão",
        "Hướng dẫn đặt lịch khám qua Sổ sức khỏe điện tử",
        "Tuyển dụng viên chức y tế năm 2026",
        "Đẩy mạnh hiến máu tình nguyện tháng 12",
    ],
)
SUMMARY = (
    "Ủy ban nhân dân thành phố Đà Nẵng thông tin đến người dân; Đồng chí Phó Chủ tịch đề nghị các "
    "đơn vị phối hợp thực hiện nghiêm."
)
BODY = (
    "<p>Đề nghị người dân theo dõi thông tin chính thức trên Cổng thông tin điện tử thành phố, "
    "không chia sẻ tin chưa được kiểm chứng.</p><p>Đường dây nóng: 1022.</p>"
)


def plan(tag: str, due_a: datetime, due_b: list[datetime]) -> list[Planned]:
    """Twenty contents: ten of each unit, each on the website and one social channel in turn; the
    first two of unit A (the one to correct, the one to retract) and the first of unit B on all five."""
    contents = []
    for unit, code, titles, dues in (
        (UNIT_A, "a", TITLES_A, [due_a] * len(TITLES_A)),
        (UNIT_B, "b", TITLES_B, due_b),
    ):
        for i, (title, due) in enumerate(zip(titles, dues, strict=True)):
            wide = i < 2 if unit == UNIT_A else i == 0
            channels = CHANNELS if wide else ("website", SOCIAL[i % len(SOCIAL)])
            contents.append(Planned(f"drill-{tag}-{code}{i:02d}", unit, title, channels, due))
    return contents


def payload(
    planned: Planned,
    media: list[MediaRef],
    options: dict[str, dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What a content system posts to the ingest for ``planned`` (``approver_claim``: the ingest
    records the token's name as ``approved_by``)."""
    opts = options or {}
    return {
        "id": planned.id,
        "version": 1,
        "title": planned.title,
        "summary": f"{planned.title}. {SUMMARY}",
        "body": BODY,
        "tags": ["Đà Nẵng", "Thông tin chính thức"],
        "unit": planned.unit,
        "kind": "press_release",
        "approver_claim": "Chánh Văn phòng UBND thành phố",
        "publish_at": planned.publish_at.isoformat(),
        "media": [m.model_dump(mode="json") for m in media],
        "targets": [
            {"channel": c, "account": ACCOUNTS[c], "options": opts.get(c, {})} for c in planned.channels
        ],
    } | extra


def drill_media(store: MediaStore) -> list[MediaRef]:
    """A photo and a short video: every channel takes them (YouTube needs the video)."""
    return [
        put_media(store, jpeg(), "image/jpeg", alt="Trụ sở UBND thành phố Đà Nẵng"),
        put_media(store, small_video(), "video/mp4", alt="Họp báo thường kỳ tháng 12"),
    ]


def _facebook(base: LoaSettings, tmp: Path, url: str, account: str = ACCOUNTS["facebook"]) -> ChannelRun:
    page = {"id": str(320_000_000_000_000 + uuid.uuid4().int % 10**12), "token": f"EAAG{uuid.uuid4().hex}"}
    httpx.post(f"{url}/graph/_sandbox/pages", json=page | {"name": "Thành phố Đà Nẵng"}).raise_for_status()
    settings = fast_settings(base, FacebookSettings, tmp, facebook_graph_url=f"{url}/graph")
    credentials = {"page_access_token": page["token"]}
    return ChannelRun(FacebookAdapter, settings, {account: (credentials, {"page_id": page["id"]})})


def _zalo(base: LoaSettings, tmp: Path, url: str, account: str = ACCOUNTS["zalo"]) -> ChannelRun:
    app = {"app_id": uuid.uuid4().hex[:12], "secret_key": uuid.uuid4().hex, "oa_id": "da-nang-oa"}
    pair = httpx.post(f"{url}/zalo/_apps", json=app).json()
    credentials = {
        **{k: app[k] for k in ("app_id", "secret_key")},
        **{k: pair[k] for k in ("access_token", "refresh_token")},
    }
    settings = fast_settings(
        base, ZaloSettings, tmp, zalo_openapi_url=f"{url}/zalo/openapi", zalo_oauth_url=f"{url}/zalo/oauth"
    )
    return ChannelRun(ZaloAdapter, settings, {account: (credentials, {})})


def _x(base: LoaSettings, tmp: Path, url: str, account: str = ACCOUNTS["x"]) -> ChannelRun:
    keys = {
        k: f"{k}-{uuid.uuid4().hex}"
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    user = str(1_900_000_000 + uuid.uuid4().int % 10**8)
    httpx.post(f"{url}/x/_accounts", json={"id": user, "username": account, **keys}).raise_for_status()
    settings = fast_settings(base, XSettings, tmp, x_api_url=f"{url}/x")
    return ChannelRun(XAdapter, settings, {account: (keys, {})})


def _website(base: LoaSettings, tmp: Path, account: str = ACCOUNTS["website"]) -> ChannelRun:
    settings = fast_settings(base, WebsiteSettings, tmp, website_serve=False)
    return ChannelRun(WebsiteAdapter, settings, {account: ({}, {"mode": "static"})})


def channel_runs(base: LoaSettings, tmp: Path, sandbox_url: str, tls: TlsSandbox) -> list[ChannelRun]:
    """The five publishers, not started, each with its job store in a folder of its own."""
    for channel in CHANNELS:
        (tmp / channel).mkdir()
    return [
        _facebook(base, tmp / "facebook", sandbox_url),
        _zalo(base, tmp / "zalo", sandbox_url),
        youtube_run(base, tmp / "youtube", tls, ACCOUNTS["youtube"]),
        _x(base, tmp / "x", sandbox_url),
        _website(base, tmp / "website"),
    ]


def drill_tracker(base: LoaSettings, database_url: str) -> TrackerSettings:
    return tracker_settings(base, database_url, tracker_tokens=TRACKER_TOKENS)


@dataclass(frozen=True)
class Ingest:
    url: str
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@contextmanager
def running_ingest(
    base: LoaSettings, tmp: Path, accounts: dict[str, str] = ACCOUNTS, unit: str = UNIT_A
) -> Iterator[Ingest]:
    """The ingest on the test's topics and buckets: the CMS (every unit) and ``unit``'s spokesperson;
    every account (channel → account; the drill's by default) belongs to ``unit``."""
    tokens = {CMS: f"cms-{uuid.uuid4().hex}", INGEST_SPOKESPERSON: f"npn-{uuid.uuid4().hex}"}
    settings = IngestSettings(
        **base.model_dump()
        | {
            "database_url": f"sqlite+aiosqlite:///{tmp / 'ingest.db'}",
            "publisher_database_url": f"sqlite+aiosqlite:///{tmp / 'no-publisher-store.db'}",
            "ingest_retractions_group": f"loa-ingest-retractions-{base.topic_prefix.strip('.')}",
            "ingest_tokens": {
                CMS: ClientToken(token=SecretStr(tokens[CMS]), role=Role.EDITOR),
                INGEST_SPOKESPERSON: ClientToken(
                    token=SecretStr(tokens[INGEST_SPOKESPERSON]), role=Role.SPOKESPERSON, units=(unit,)
                ),
            },
            "account_units": {f"{c}/{a}": unit for c, a in accounts.items()},
        }
    )
    with serve(create_ingest(settings)) as url:
        yield Ingest(url, tokens)
