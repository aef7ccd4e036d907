"""A port of twitter-text 3.1.0's ``parseTweet`` (X's own JavaScript reference for counting a post).

It works on UTF-16 code units, as the JavaScript does, so its patterns (``regexes.py``, exported
from the npm packages) run unchanged and its indices are those of the conformance suite.
"""

from services.x.twitter_text.parse import V1, V2, V3, Config, ParseResult, parse_tweet, weighted_length

__all__ = ["V1", "V2", "V3", "Config", "ParseResult", "parse_tweet", "weighted_length"]
