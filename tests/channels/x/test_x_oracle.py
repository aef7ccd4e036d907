"""Loa's port of twitter-text against the JavaScript it ports: random Vietnamese posts with links,
emoji, CJK and directional marks, counted by both. The oracle is the npm package twitter-text
3.1.0 (the ``node`` fixture of ``conftest.py``)."""

from __future__ import annotations

import json
import random
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from services.x.twitter_text import parse_tweet, weighted_length
from services.x.twitter_text.extract import extract_urls, from_units, units
from tests.channels.x.conftest import Node

pytestmark = pytest.mark.unit

ORACLE = Path(__file__).parent / "oracle" / "oracle.js"

WORDS = [
    "Thông",
    "cáo",
    "báo",
    "chí",
    "Bộ",
    "Hà",
    "Nội",
    "Đà",
    "Nẵng",
    "nghị",
    "định",
    "quyết",
    "chuyển",
    "đổi",
    "số",
    "người",
    "dân",
    "Chính",
    "phủ",
    "ngày",
    "26/11",
    "họp",
    "thường",
    "kỳ",
    "Việt",
    "Nam",
    "ưu",
    "tiên",
    "khẩn",
    "(trích)",
    "“Luật",
    "mới”",
    "—",
    "…",
    "東京",
    "트위터",
]
LINKS = [
    "https://baochinhphu.vn/thong-cao-bao-chi-102241126.htm",
    "chinhphu.vn",
    "mic.gov.vn/tin-tuc",
    "http://example.com/path.....",
    "ELPAÍS.com",
    "https://twitter.भारत",
    "foo.bar",
    "https://t.co/abc123",
    "https://vi.wikipedia.org/wiki/Hà_Nội",
    "http://☃.net/",
    "www.gov.vn?lang=vi&x=1",
    "https://a.b.c.museum",
    "xn--bcher-kva.de",
    "https://sub.domain-ä.com/đường-dẫn",
    "https://example.com/(ngoặc)",
    "nhandan.com.vn.",
]
EMOJI = [
    "🇻🇳",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "1️⃣",
    "❤️",
    "☺",
    "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "🧑🏻‍💻",
    "🫡",
    "©",
    "™️",
    "🎉",
]
GLUE = [" ", " ", " ", "", "\n", ", ", ". ", "$", "#", "@", "\u2066", "\u2069", "\u202c", "\u200f", "：", "/"]
REFUSED = ["\ufeff", "\ufffe", "\uffff"]
# URL-shaped fragments glued at random, with letters whose case folds differ between Python and
# JavaScript (ſ, ı, İ, the Kelvin and Ångström signs)
FRAGMENTS = [
    "a",
    ".",
    "com",
    "vn",
    "/",
    "-",
    "_",
    "(",
    ")",
    "?",
    "=",
    "&",
    "ệ",
    "ạ",
    "\u0301",
    "😀",
    "\u200d",
    "\ufe0f",
    "https://",
    "http://",
    "www.",
    "@",
    "#",
    "$",
    " ",
    "\u202a",
    "日",
    "\U0001f3fb",
    "xn--",
    "ß",
    "ẞ",
    "İ",
    "ı",
    "\u212a",
    "ſ",
    "\u212b",
    "Ω",
    "ОНЛАЙН",
    ".рф",
    "t.co/",
    "ÉLYSÉE",
    "\u3002",
    "ｃｏｍ",
]


def _random_post(rng: random.Random, *, emoji: bool = True) -> str:
    """Words, links, glue; with ``emoji``, emoji sequences and now and then a refused character."""
    pieces: list[str] = []
    for _ in range(rng.randint(1, 40)):
        roll = rng.random() if emoji else rng.random() * 0.8
        pool = WORDS if roll < 0.6 else LINKS if roll < 0.8 else EMOJI if roll < 0.97 else REFUSED
        pieces.append(rng.choice(pool) + rng.choice(GLUE))
    text = "".join(pieces)
    return unicodedata.normalize("NFD", text) if rng.random() < 0.1 else text


def _random_fragments(rng: random.Random) -> str:
    return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 60)))


def _oracle(node: Node, texts: list[str]) -> list[dict[str, Any]]:
    answer = subprocess.run(
        [node.executable, str(ORACLE), str(node.modules)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answers: list[dict[str, Any]] = json.loads(answer.stdout)
    return answers


def _differences(node: Node, texts: list[str]) -> list[tuple[Any, ...]]:
    """The texts on which Loa's port and twitter-text disagree, with both answers."""
    differing = []
    for text, answer in zip(texts, _oracle(node, texts), strict=True):
        ours = parse_tweet(text)
        theirs = answer["parsed"]
        mine = [
            weighted_length(text),
            ours.weighted_length,
            ours.valid,
            ours.permillage,
            ours.valid_range_end,
            ours.display_range_end,
        ]
        expected = [theirs["weightedLength"]] + [
            theirs[k] for k in ("weightedLength", "valid", "permillage", "validRangeEnd", "displayRangeEnd")
        ]
        urls = [[from_units(url), list(span)] for url, span in extract_urls(units(text))]
        if mine != expected or urls != answer["urls"]:
            differing.append((text, mine, expected, urls, answer["urls"]))
    return differing


def test_random_vietnamese_posts_count_as_twitter_text_counts_them(node: Node) -> None:
    rng = random.Random(19)
    assert _differences(node, [_random_post(rng) for _ in range(500)]) == []


def test_random_posts_without_emoji_count_as_twitter_text_counts_them(node: Node) -> None:
    """The texts the port sums run by run rather than walking them (no surrogate, nothing refused),
    within the limit and over it (a thread's candidates are mostly over it)."""
    rng = random.Random(20)
    texts = [_random_post(rng, emoji=False) for _ in range(500)]
    assert sum(weighted_length(t) > 280 for t in texts) > 100  # both sides of the limit are tried
    assert _differences(node, texts) == []


def test_random_url_shaped_fragments_are_found_as_twitter_text_finds_them(node: Node) -> None:
    rng = random.Random(19)
    assert _differences(node, [_random_fragments(rng) for _ in range(500)]) == []
