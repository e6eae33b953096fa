"""How long X thinks a post is.

X does not count characters: it counts a *weighted* length with the rules of its
twitter-text library (v3 configuration): every URL weighs 23 whatever its length (X wraps it
in a t.co link), characters of the Latin and general-punctuation ranges weigh 1, everything
else (CJK, most emoji sequences) weighs 2, and the limit is 280. The `twitter-text-parser`
package implements those rules; this module is the one place the helpdesk imports it from
(`parse_tweet`, `extract_urls`), since importing it takes a stand-in on Python 3.12+.

A DM is not weighted: X takes up to 10,000 characters.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path


def _import_parse_tweet():
    """`twitter_text.parse_tweet`, importable on every Python the README names.

    twitter-text-parser 3.0.0 (the latest) runs `import pkg_resources` to read one data file
    with `pkg_resources.resource_string`. pkg_resources comes with setuptools, which venvs no
    longer include from Python 3.12 on, and setuptools 81 removed it altogether. Rather than pin
    an old setuptools for one call, a stand-in with that one function is provided while
    twitter_text is imported, then taken away so nothing else mistakes it for the real thing.
    """
    try:
        import pkg_resources  # noqa: F401 - present (setuptools < 81): nothing to do
    except ImportError:
        stand_in = types.ModuleType("pkg_resources")
        stand_in.resource_string = _resource_string
        sys.modules["pkg_resources"] = stand_in
        try:
            from twitter_text import parse_tweet
        finally:
            if sys.modules.get("pkg_resources") is stand_in:
                del sys.modules["pkg_resources"]
        return parse_tweet
    from twitter_text import parse_tweet

    return parse_tweet


def _resource_string(module_name: str, resource: str) -> bytes:
    # pkg_resources' meaning: a file next to the module (or in the package) of that name.
    return (Path(sys.modules[module_name].__file__).parent / resource).read_bytes()


parse_tweet = _import_parse_tweet()
# Imported only once the package is (above): the package's own import needs the stand-in.
# Re-exported for the pricing rules (x/pricing.py), which asks whether a post carries a URL.
from twitter_text.extract_urls import extract_urls  # noqa: E402, F401

TWEET_LIMIT = 280
DM_LIMIT = 10_000
# What a URL weighs once X has shortened it; the composer reserves it for the ticket link.
URL_WEIGHT = 23


def weighted_length(text: str) -> int:
    """The length X counts against TWEET_LIMIT."""
    if not text:
        return 0
    return parse_tweet(text).weightedLength


def dm_length(text: str) -> int:
    return len(text)


def appended(body: str, link: str) -> str:
    """`body` with `link` added the way the composer adds it: after one space."""
    body = body.rstrip()
    return f"{body} {link}" if body else link


def link_weight(link: str) -> int:
    """What appending `link` adds to a post's weighted length (the space included).

    A link on a real domain weighs URL_WEIGHT; one X would not recognise as a link (a bare
    IP address, "localhost" in development) weighs its own characters, as X would count it.
    """
    return weighted_length(appended("a", link)) - 1
