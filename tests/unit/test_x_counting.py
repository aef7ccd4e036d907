"""X's weighted counting against twitter-text's published conformance cases (validate.yml,
``WeightedTweetsWithDiscountedEmojiCounterTest``, config v3) and Vietnamese text."""

from __future__ import annotations

import unicodedata

import pytest

from services.x.counting import weighted_length
from services.x.threads import UnsplittableError, split_thread

pytestmark = pytest.mark.unit

CJK_160 = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"
    "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"
    "遥知兄弟登高处，遍插茱萸少一人。"
)
X = "xxxxxxxxxx-"

CASES = [
    # twitter-text conformance (validate.yml, v3 section)
    ("Hi http://test.co", 26),
    ("http://test.co", 23),
    ("285 chars-" + X * 25, 285),
    ("285 chars- http://www.twitter.com/jack " + X * 24, 299),
    (X * 24 + " http://www.twitter.com/jack ", 289),
    ("https://www.twitter.com/aloha " * 10, 240),
    (CJK_160, 320),
    ("😷" * 160, 320),
    ("the" + CJK_160, 323),
    ("ÁB", 2),
    ("282 chars-" + X * 24 + "xxxxxÁx", 281),
    ("H🐱☺👨‍👩‍👧‍👦", 7),
    ("😷👾😡🔥💩", 10),
    ("🙋🏽👨‍🎤", 4),
    (
        "This is a tweet with general punctuation characters: "
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b"
        " ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷",
        110,
    ),
    ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
    # Vietnamese: letters below U+10FF weigh 1, those of U+1EA0–U+1EF9 weigh 2
    ("Hà Nội", 7),  # ộ (U+1ED9) is 2
    ("Đà Nẵng", 8),  # Đ, à: 1; ẵ (U+1EB5): 2
    ("Việt Nam", 9),  # ệ (U+1EC7): 2
    ("đường", 6),  # đ, ư: 1 (below U+10FF); ờ (U+1EDD): 2
    ("Bộ Thông tin và Truyền thông", 30),  # ộ, ề: 2 each
    ("ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ", 2 * 45),
    ("áàãâăđêôơưéèóòúùíìýõũĩ", 22),
    # NFD input is normalised first: the combining marks do not count separately
    (unicodedata.normalize("NFD", "Hà Nội"), 7),
    (unicodedata.normalize("NFD", "Nghị định"), 11),
    # URLs count 23 whatever their length, Vietnamese slugs included
    ("Xem https://baochinhphu.vn/thong-cao-bao-chi-ve-ky-hop-thu-10-quoc-hoi-khoa-xv-102241126.htm", 27),
    ("Chi tiết: chinhphu.vn", 34),  # a bare domain is a link too
    ("https://example.com/Русские_слова", 23),
    # emoji sequences: flags and keycaps count 2
    ("🇻🇳", 2),
    ("1️⃣", 2),
    ("Chúc mừng năm mới 🎉🇻🇳", 24),
    # CJK and Korean count 2 per character
    ("트위터", 6),
    ("東京", 4),
    ("", 0),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_weighted_length_matches_published_rules(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


LONG_VI = (
    "Sáng 26/11, tại Hà Nội, Bộ Thông tin và Truyền thông tổ chức họp báo thường kỳ. "
    "Đại diện Cục Báo chí cho biết, trong tháng qua các cơ quan báo chí đã phản ánh kịp thời, "
    "đầy đủ các sự kiện chính trị, kinh tế, xã hội quan trọng của đất nước. "
    "Đặc biệt, công tác thông tin về phòng, chống thiên tai được triển khai đồng bộ, "
    "góp phần giúp người dân chủ động ứng phó với bão lũ ở các tỉnh miền Trung. "
    "Chi tiết xem tại https://mic.gov.vn/hop-bao-thuong-ky-thang-11-2026-197241126.htm và "
    "trên các kênh chính thức của Bộ."
)


def test_long_vietnamese_text_becomes_a_numbered_thread_within_the_limit() -> None:
    parts = split_thread(LONG_VI)
    assert len(parts) > 1
    assert all(weighted_length(p) <= 280 for p in parts)
    assert [p.rsplit(" ", 1)[1] for p in parts] == [f"({i}/{len(parts)})" for i in range(1, len(parts) + 1)]


def test_thread_never_cuts_inside_a_word_or_url() -> None:
    parts = split_thread(LONG_VI)
    words = LONG_VI.split()
    rejoined = " ".join(p.rsplit(" ", 1)[0] for p in parts).split()
    assert rejoined == words
    assert any("https://mic.gov.vn/hop-bao-thuong-ky-thang-11-2026-197241126.htm" in p for p in parts)


def test_a_text_that_fits_is_one_unnumbered_post() -> None:
    assert split_thread("Thông cáo báo chí về kỳ họp thứ 10") == ["Thông cáo báo chí về kỳ họp thứ 10"]


def test_a_single_word_longer_than_a_post_is_refused() -> None:
    with pytest.raises(UnsplittableError):
        split_thread("ệ" * 200 + " và " + "ạ" * 200)
