"""Post text handling: entities (mentions, URLs, hashtags) and X's weighted length.

The weighted length follows twitter-text's v3 configuration: code points in the
Latin/General-punctuation ranges weigh 1, everything else (CJK, emoji, ...) 2,
every URL 23 regardless of its length, limit 280.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

MENTION_RE = re.compile(r"(?<![A-Za-z0-9_!@#$%&*])[@＠]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")
HASHTAG_RE = re.compile(r"(?<![\w&])[#＃](\w*[^\W\d]\w*)")
URL_RE = re.compile(r"(?<![\w@.])(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
# An emoji sequence (with skin tones, variation selectors and ZWJ joins) counts once, as 2.
EMOJI_SEQ_RE = re.compile(
    "(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF]"
    "[\U0001F3FB-\U0001F3FF\uFE0F]*"
    "(?:\u200D[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF][\U0001F3FB-\U0001F3FF\uFE0F]*)*)"
)


def _char_weight(ch: str) -> int:
    cp = ord(ch)
    for lo, hi in _LIGHT_RANGES:
        if lo <= cp <= hi:
            return 1
    return 2


def weighted_length(text: str) -> int:
    """Length as X counts it against the 280 limit."""
    total = 0
    pos = 0
    for m in URL_RE.finditer(text):
        total += _plain_weight(text[pos : m.start()]) + URL_WEIGHT
        pos = m.end()
    return total + _plain_weight(text[pos:])


def _plain_weight(chunk: str) -> int:
    total = 0
    pos = 0
    for m in EMOJI_SEQ_RE.finditer(chunk):
        total += sum(_char_weight(c) for c in chunk[pos : m.start()]) + 2
        pos = m.end()
    return total + sum(_char_weight(c) for c in chunk[pos:])


def tco_for(expanded: str, salt: str) -> str:
    """A stable, t.co-looking short link (10 base62 chars) for one URL occurrence."""
    digest = hashlib.sha256(f"{salt}|{expanded}".encode()).digest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(10):
        n, r = divmod(n, 62)
        chars.append(alphabet[r])
    return "https://t.co/" + "".join(chars)


@dataclass
class ParsedText:
    text: str  # as X stores it: URLs replaced by t.co links
    urls: list[dict]
    mentions: list[dict]  # start/end/username (id filled in by the store)
    hashtags: list[dict]


def parse_text(original: str, salt: str) -> ParsedText:
    """Shorten URLs the way X does and compute entity offsets (code points) on the result."""
    parts: list[str] = []
    urls: list[dict] = []
    pos = 0
    out_len = 0
    for i, m in enumerate(URL_RE.finditer(original)):
        before = original[pos : m.start()]
        parts.append(before)
        out_len += len(before)
        expanded = m.group(0)
        if not expanded.lower().startswith("http"):
            expanded = "http://" + expanded
        short = tco_for(expanded, f"{salt}:{i}")
        display = re.sub(r"^https?://", "", expanded)
        if len(display) > 26:
            display = display[:26] + "…"
        urls.append(
            {
                "start": out_len,
                "end": out_len + len(short),
                "url": short,
                "expanded_url": expanded,
                "display_url": display,
            }
        )
        parts.append(short)
        out_len += len(short)
        pos = m.end()
    parts.append(original[pos:])
    text = "".join(parts)
    mentions = [
        {"start": m.start(), "end": m.end(), "username": m.group(1)} for m in MENTION_RE.finditer(text)
        if not _inside(m.start(), urls)
    ]
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in HASHTAG_RE.finditer(text)
        if not _inside(m.start(), urls)
    ]
    return ParsedText(text=text, urls=urls, mentions=mentions, hashtags=hashtags)


def _inside(index: int, urls: list[dict]) -> bool:
    return any(u["start"] <= index < u["end"] for u in urls)
