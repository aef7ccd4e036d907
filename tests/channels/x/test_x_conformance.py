"""Every case of twitter-text's conformance suite that X's counting depends on, run against Loa's
port (``services/x/twitter_text``). The yml files are vendored beside this file, unchanged (see
``conformance/README.md``); the section → function mapping is that of twitter-text's own runner,
``js/test/conformance.html``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.x.twitter_text import V1, V2, V3, Config, parse_tweet
from services.x.twitter_text.extract import extract_urls, from_units, units

pytestmark = pytest.mark.unit

SUITE = Path(__file__).parent / "conformance"


@cache
def _suite(file: str) -> dict[str, Any]:
    """The ``tests`` of one yml file, parsed once per session (libyaml's loader when PyYAML has it:
    the pure-Python one spends seconds on tlds.yml alone)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    tests: dict[str, Any] = yaml.load((SUITE / file).read_text(encoding="utf-8"), Loader=loader)["tests"]
    return tests


def _cases(file: str, *sections: str) -> list[Any]:
    tests = _suite(file)
    return [
        pytest.param(case, id=f"{section}: {case['description']}")
        for section in sections
        for case in tests[section]
    ]


RUN = {
    "validate.yml": {
        "tweets",
        "WeightedTweetsCounterTest",
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    },
    "extract.yml": {"urls", "urls_with_indices", "urls_with_directional_markers", "tco_urls_with_params"},
    "tlds.yml": {"country", "generic"},
}
# Sections of the suite that test twitter-text functions Loa does not port: none of them changes
# how a post is counted (a mention, hashtag or cashtag weighs what its characters weigh).
NOT_PORTED = {
    "validate.yml": {
        "usernames": "isValidUsername: Loa does not validate @names",
        "lists": "isValidList: Loa does not post list references",
        "hashtags": "isValidHashtag: hashtags are counted as text; the adapter builds them from letters",
        "urls": "isValidUrl (RFC 3986 validation of one URL) is not what counting uses: extractUrls is",
        "urls_without_protocol": "isValidUrl, as above",
    },
    "extract.yml": dict.fromkeys(
        (
            "mentions",
            "mentions_with_indices",
            "mentions_or_lists_with_indices",
            "replies",
            "hashtags",
            "hashtags_from_astral",
            "hashtags_with_indices",
            "cashtags",
            "cashtags_with_indices",
        ),
        "extraction of mentions, replies, hashtags and cashtags: not part of counting",
    ),
}


@pytest.mark.parametrize("file", sorted(RUN))
def test_every_section_of_the_suite_is_run_or_said_why_not(file: str) -> None:
    sections = set(_suite(file))
    assert sections == RUN[file] | set(NOT_PORTED.get(file, {}))
    assert not RUN[file] & set(NOT_PORTED.get(file, {}))


def _urls(text: str) -> list[str]:
    return [from_units(url) for url, _ in extract_urls(units(text))]


@pytest.mark.parametrize(("version", "config"), [(1, V1), (2, V2), (3, V3)], ids=["v1", "v2", "v3"])
def test_configs_are_twitter_texts_own(version: int, config: Config) -> None:
    published = json.loads((SUITE / "config" / f"v{version}.json").read_text())
    assert config.max_weighted_length == published["maxWeightedTweetLength"]
    assert config.scale == published["scale"]
    assert config.default_weight == published["defaultWeight"]
    assert config.transformed_url_length == published["transformedURLLength"]
    assert config.ranges == tuple((r["start"], r["end"], r["weight"]) for r in published["ranges"])
    assert config.emoji_parsing == published.get("emojiParsingEnabled", False)


@pytest.mark.parametrize("case", _cases("validate.yml", "tweets"))
def test_tweet_validity_v1(case: dict[str, Any]) -> None:
    """``isValidTweetText(text, configs.version1)``: the 140-character era, kept by the suite."""
    assert parse_tweet(case["text"], V1).valid is case["expected"]


WEIGHTED = [
    *[(c, V2) for c in _cases("validate.yml", "WeightedTweetsCounterTest")],
    *[(c, V3) for c in _cases("validate.yml", "WeightedTweetsWithDiscountedEmojiCounterTest")],
    *[(c, V3) for c in _cases("validate.yml", "UnicodeDirectionalMarkerCounterTest")],
]


@pytest.mark.parametrize(("case", "config"), [pytest.param(c.values[0], cfg, id=c.id) for c, cfg in WEIGHTED])
def test_weighted_length_validity_and_ranges(case: dict[str, Any], config: Config) -> None:
    result = parse_tweet(case["text"], config)
    expected = case["expected"]
    assert result.weighted_length == expected["weightedLength"]
    assert result.valid is expected["valid"]
    assert result.permillage == expected["permillage"]
    assert (0, result.valid_range_end) == (expected["validRangeStart"], expected["validRangeEnd"])
    assert (0, result.display_range_end) == (expected["displayRangeStart"], expected["displayRangeEnd"])


@pytest.mark.parametrize("case", _cases("extract.yml", "urls", "tco_urls_with_params"))
def test_extract_urls(case: dict[str, Any]) -> None:
    assert _urls(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", _cases("extract.yml", "urls_with_indices", "urls_with_directional_markers"))
def test_extract_urls_with_indices(case: dict[str, Any]) -> None:
    found = extract_urls(units(case["text"]))
    assert [{"url": from_units(url), "indices": list(span)} for url, span in found] == case["expected"]


@pytest.mark.parametrize("case", _cases("tlds.yml", "country", "generic"))
def test_tlds(case: dict[str, Any]) -> None:
    assert _urls(case["text"]) == case["expected"]
