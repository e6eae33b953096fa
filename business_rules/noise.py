"""Noise rules: which incoming X items never become tickets.

The X intake calls `matching_rule` once per fetched item, before converting it:

    from business_rules.noise import NoiseCandidate, matching_rule

    verdict = matching_rule(
        NoiseCandidate(
            text=tweet.text,
            author_id=tweet.author_id,            # X user id, digits as a string
            author_username=author.username,      # without "@"
            author_followers=author.followers,    # None when X did not say
            is_retweet=tweet.is_retweet,
            is_quote=tweet.is_quote,
            mentioned_usernames=("brand", "other"),
        ),
        account_id=x_account.pk,                  # the XAccount it came through (None: global rules only)
    )
    if verdict is not None:
        # Leave the item in the incoming stream, marked ignored:
        item.ignored_by_rule_id = verdict.rule_id
        item.ignored_reason = verdict.reason     # e.g. 'Retweet — rule "Drop retweets"'

`None` means no rule objects: convert the item as usual.

Which rules apply: active rules of that account plus active global rules (no account), in
position order (then id); the first rule with a hit wins. Within one rule the checks are
read in this order, and any hit ignores the item:

- ignore retweets / ignore quote posts: the candidate's flags;
- blocked authors: the author's numeric id or username (case-insensitive, "@" optional);
- bare mentions: the text holds nothing but @handles, links and punctuation;
- ignore keywords: any word or phrase appears (case-insensitive, whole words);
- require keywords: none of the words or phrases appears;
- minimum followers: the author has fewer (an unknown count never ignores).

The function is pure apart from reading the rules, which are compiled once per process and
re-read when an admin changes them (at most `CHECK_INTERVAL` seconds late in other
processes; at once in the process that saved): calling it per item costs no query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .cache import VersionedCache
from .models import NoiseRule

CHECK_INTERVAL = 2.0  # seconds between looks at the stored rules version


@dataclass(frozen=True)
class NoiseCandidate:
    """What the noise rules need to know about one incoming X item."""

    text: str
    author_id: str
    author_username: str
    author_followers: int | None = None
    is_retweet: bool = False
    is_quote: bool = False
    mentioned_usernames: Sequence[str] = ()


@dataclass(frozen=True)
class NoiseVerdict:
    """Why an item is ignored: the rule that matched and a sentence an agent can read."""

    rule_id: int
    rule_name: str
    reason: str


@dataclass(frozen=True)
class CompiledNoiseRule:
    id: int
    name: str
    account_id: int | None
    ignore_retweets: bool
    ignore_quotes: bool
    ignore_bare_mentions: bool
    blocked_ids: frozenset[str]
    blocked_usernames: frozenset[str]
    ignore_pattern: re.Pattern | None
    require_pattern: re.Pattern | None
    min_followers: int | None

    def hit(self, c: NoiseCandidate) -> str | None:
        """The reason this rule ignores the candidate, or None."""
        if self.ignore_retweets and c.is_retweet:
            return "Retweet"
        if self.ignore_quotes and c.is_quote:
            return "Quote post"
        if str(c.author_id) in self.blocked_ids or c.author_username.lower().lstrip("@") in self.blocked_usernames:
            return f"Author @{c.author_username.lstrip('@')} is blocked"
        if self.ignore_bare_mentions and is_bare_mention(c.text):
            return "Only mentions and links, no message"
        if self.ignore_pattern is not None:
            found = self.ignore_pattern.search(c.text)
            if found:
                return f'Contains ignored keyword "{found.group(0)}"'
        if self.require_pattern is not None and not self.require_pattern.search(c.text):
            return "Contains none of the required keywords"
        if self.min_followers is not None and c.author_followers is not None and c.author_followers < self.min_followers:
            return f"Author has {c.author_followers:,} followers, fewer than {self.min_followers:,}"
        return None


MENTION_OR_LINK = re.compile(r"@\w+|https?://\S+", re.UNICODE)


def is_bare_mention(text: str) -> bool:
    """True when nothing but @handles, links, spaces and punctuation is left in the text."""
    rest = MENTION_OR_LINK.sub(" ", text)
    return not any(ch.isalnum() for ch in rest)


def split_list(text: str) -> list[str]:
    """Entries of an admin-typed list: one per line or comma separated, blanks dropped."""
    return [part.strip() for part in re.split(r"[\n,]", text) if part.strip()]


def keyword_pattern(text: str) -> re.Pattern | None:
    words = split_list(text)
    if not words:
        return None
    # Whole words only ("bot" must not hit "bottle"); a phrase's inner spaces match any run of spaces.
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in word.split()) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE | re.UNICODE)


def compile_rule(rule: NoiseRule) -> CompiledNoiseRule:
    authors = [a.lstrip("@") for a in split_list(rule.blocked_authors)]
    return CompiledNoiseRule(
        id=rule.pk,
        name=rule.name,
        account_id=rule.account_id,
        ignore_retweets=rule.ignore_retweets,
        ignore_quotes=rule.ignore_quotes,
        ignore_bare_mentions=rule.ignore_bare_mentions,
        blocked_ids=frozenset(a for a in authors if a.isdigit()),
        blocked_usernames=frozenset(a.lower() for a in authors if not a.isdigit()),
        ignore_pattern=keyword_pattern(rule.ignore_keywords),
        require_pattern=keyword_pattern(rule.require_keywords),
        min_followers=rule.min_followers,
    )


def _load_rules() -> tuple[CompiledNoiseRule, ...]:
    return tuple(compile_rule(rule) for rule in NoiseRule.objects.filter(active=True).order_by("position", "id"))


compiled_rules = VersionedCache("noise", _load_rules, max_age=CHECK_INTERVAL)


def matching_rule(candidate: NoiseCandidate, account_id: int | None) -> NoiseVerdict | None:
    """The first active noise rule (of `account_id` or global) that ignores `candidate`,
    as a verdict with the rule's id and a readable reason; None to keep the item."""
    for rule in compiled_rules.get():
        if rule.account_id is not None and rule.account_id != account_id:
            continue
        reason = rule.hit(candidate)
        if reason:
            return NoiseVerdict(rule_id=rule.id, rule_name=rule.name, reason=f'{reason} — rule "{rule.name}"')
    return None
