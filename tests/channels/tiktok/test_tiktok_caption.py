"""The caption, counted as TikTok counts ``post_info.title``: UTF-16 code units, hashtags included
(developers.tiktok.com/doc/content-posting-api-reference-direct-post: "The maximum length is 2200
in UTF-16 runes"; ``#`` starts a hashtag that is part of the caption)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from loa.channels import Account, LimitError, check_limits
from loa.events import Content, MediaRef, Target
from loa.testing import FakeContext
from loa.text import count_utf16_units
from services.tiktok.adapter import TikTokAdapter
from services.tiktok.caption import CAPTION_MAX_UTF16, hashtag, render_caption
from services.tiktok.settings import TikTokSettings

pytestmark = pytest.mark.unit
LINK = "https://bo-thong-tin.gov.vn/tin-tuc/2025/12/04/da-nang-thong-xe-cau"
PARAGRAPH = (
    "Sáng 4/12, Ủy ban nhân dân thành phố Đà Nẵng tổ chức lễ thông xe cầu Nguyễn Tri Phương mở rộng; "
    "Đồng chí Chủ tịch UBND thành phố nhấn mạnh người dân Đắk Lắk, Điện Biên đến Đà Nẵng sẽ đi lại dễ hơn. "
)
VIDEO = MediaRef(key="sha256/" + "a" * 64, sha256="a" * 64, content_type="video/mp4", size=1_000_000)


def test_vietnamese_and_hashtags_count_in_utf16_units_of_the_nfc_text() -> None:
    decomposed = unicodedata.normalize("NFD", "Đà Nẵng")
    assert len(decomposed) > len("Đà Nẵng")  # NFD: combining marks are extra code points
    assert count_utf16_units(decomposed) == 7  # counted after NFC, as the caption is sent
    assert count_utf16_units("#ĐàNẵng 🇻🇳") == 12  # a flag: two regional indicators, 2 units each
    assert hashtag("Chuyển đổi số") == "#Chuyểnđổisố"
    assert hashtag(unicodedata.normalize("NFD", "Đà Nẵng")) == "#ĐàNẵng"


def test_the_caption_holds_title_summary_link_and_hashtags() -> None:
    text = render_caption(
        "Đà Nẵng thông xe cầu", PARAGRAPH, LINK, ["Đà Nẵng", "Giao thông", "đà nẵng"], may_shorten=True
    )
    assert text == f"Đà Nẵng thông xe cầu\n\n{PARAGRAPH.strip()}\n\n{LINK}\n\n#ĐàNẵng #Giaothông"
    assert unicodedata.is_normalized("NFC", text)


def test_a_long_summary_is_cut_at_a_word_so_the_whole_fits_2200_units() -> None:
    long = PARAGRAPH * 20 + "🎉" * 50
    text = render_caption("Đà Nẵng thông xe cầu", long, LINK, ["Đà Nẵng"], may_shorten=True)
    assert count_utf16_units(text) <= CAPTION_MAX_UTF16
    assert len(text) < CAPTION_MAX_UTF16 or "🎉" not in text
    assert text.endswith(f"…\n\n{LINK}\n\n#ĐàNẵng")


def test_emoji_count_twice_so_a_caption_of_1100_emoji_is_full() -> None:
    assert count_utf16_units("😀" * 1100) == CAPTION_MAX_UTF16
    assert count_utf16_units("😀" * 1101) == CAPTION_MAX_UTF16 + 2


async def test_an_editors_own_text_is_never_cut_the_runtime_refuses_it_naming_text() -> None:
    adapter = TikTokAdapter(FakeContext(), TikTokSettings(tiktok_api_url="http://127.0.0.1:9/tiktok"))
    own = "😀" * 1100  # 1100 code points, 2200 UTF-16 units: over with the title and link
    content = Content(
        id="ubnd-dn-0009",
        version=1,
        title="Thông báo",
        summary="Tóm tắt.",
        body="<p>Nội dung.</p>",
        media=[VIDEO],
        unit="Văn phòng",
        approved_by="Lê Thị Đào",
        approved_at=datetime(2025, 12, 4, tzinfo=UTC),
        targets=[Target(channel="tiktok", account="ubnd-da-nang", text=own)],
    )
    post = await adapter.render(content, content.targets[0], Account("tiktok", "ubnd-da-nang"))
    assert own in post.texts[0]
    with pytest.raises(LimitError, match=r"^text: \d+ characters, the channel allows 2200$"):
        check_limits(post, adapter.limits)
    await adapter.aclose()
