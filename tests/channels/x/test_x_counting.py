"""X's weighted counting of Vietnamese text and of the cases the first release got wrong.

The published conformance suite runs in full in ``tests/channels/x/test_x_conformance.py``; every
expected value here was given by twitter-text 3.1.0's ``parseTweet`` (npm package, config v3),
the reference X publishes for counting (docs.x.com/fundamentals/counting-characters)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from services.x import threads
from services.x.counting import is_valid, weighted_length, without_refused_characters
from services.x.threads import UnsplittableError, split_thread

pytestmark = pytest.mark.unit

CASES = [
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

# (text, weighted length, valid): where the first release's count differed from X's
FIDELITY = [
    ("Xem http://example.com/path..... nhé", 36, True),  # trailing dots are not part of the URL
    ("Báo ELPAÍS.com đưa tin", 35, True),  # a schemeless domain with a Latin accent is a link
    ("Trang foo.bar và abc.xyz", 56, True),  # any TLD of X's list, not 32 of them
    ("https://twitter.भारत", 23, True),  # an IDN TLD is not cut at its combining marks
    ("Lịch họp \u2066https://chinhphu.vn/lich\u2069 nhé", 42, True),  # isolates stay outside
    ("日本語https://example.com日本語", 35, True),  # a URL glued to CJK text
    ("$chinhphu.vn #chinhphu.vn @chinhphu.vn", 38, True),  # cashtag, hashtag, mention: no links
    ("Xem (https://baochinhphu.vn/tin-moi.htm), rồi bình luận!", 47, True),
    (
        "Giải bóng đá 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        16,
        True,
    ),  # a tag-sequence flag: 2
    ("Thông cáo\ufeff báo chí", 19, False),  # a byte-order mark makes X refuse the post
    ("Thông cáo\ufffe", 11, False),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_weighted_length_matches_published_rules(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "valid"), FIDELITY, ids=[f"fidelity{i}" for i in range(len(FIDELITY))]
)
def test_counts_what_x_counts_where_the_first_release_did_not(text: str, expected: int, valid: bool) -> None:
    assert (weighted_length(text), is_valid(text)) == (expected, valid)


def test_a_thread_drops_the_characters_x_refuses() -> None:
    assert split_thread("\ufeffThông cáo\ufffe báo chí") == ["Thông cáo báo chí"]
    assert without_refused_characters("Hà\uffff Nội") == "Hà Nội"


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


def test_a_thread_is_packed_as_if_every_candidate_were_counted() -> None:
    """``_pack`` adds up its units' weights instead of counting each candidate post; the parts are
    those the counting of every candidate gives, for long sentences (packed word by word), links
    (23 each) and emoji (2 each) alike."""
    rng = random.Random(11)
    pieces = [*LONG_VI.split(), "🇻🇳", "👍🏽", "chinhphu.vn", "https://baochinhphu.vn/tin-moi.htm", "東京"]
    for _ in range(40):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(20, 120)))
        sentences = [s for s in threads._SENTENCE_END.split(text) if s]
        for budget in (272, 120):
            try:
                summed = threads._pack(sentences, budget)
            except UnsplittableError:
                continue
            assert summed == threads._pack(sentences, budget, exact=True)
            assert all(weighted_length(part) <= budget for part in summed)
