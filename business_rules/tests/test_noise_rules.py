import pytest

from business_rules.models import NoiseRule
from business_rules.noise import NoiseCandidate, is_bare_mention, matching_rule
from twitter_channel.models import XAccount

pytestmark = pytest.mark.django_db


def candidate(**overrides) -> NoiseCandidate:
    fields = {
        "text": "@brand my order never arrived, can you help?",
        "author_id": "12345",
        "author_username": "alice",
        "author_followers": 250,
        "is_retweet": False,
        "is_quote": False,
        "mentioned_usernames": ("brand",),
    }
    fields.update(overrides)
    return NoiseCandidate(**fields)


@pytest.fixture
def account():
    return XAccount.objects.create(user_id="900", username="brand")


def test_an_ordinary_mention_passes_when_no_rule_hits(account):
    NoiseRule.objects.create(name="Drop retweets", ignore_retweets=True)
    assert matching_rule(candidate(), account.pk) is None


def test_retweets_are_ignored_with_the_rule_and_a_reason(account):
    rule = NoiseRule.objects.create(name="Drop retweets", ignore_retweets=True)
    verdict = matching_rule(candidate(is_retweet=True), account.pk)
    assert verdict.rule_id == rule.pk
    assert verdict.reason == 'Retweet — rule "Drop retweets"'


def test_quote_posts_are_ignored(account):
    NoiseRule.objects.create(name="Quotes", ignore_quotes=True)
    assert matching_rule(candidate(is_quote=True), account.pk).reason.startswith("Quote post")
    assert matching_rule(candidate(is_quote=False), account.pk) is None


@pytest.mark.parametrize("entry", ["alice", "@Alice", "12345"])
def test_blocked_authors_match_by_username_or_id(account, entry):
    NoiseRule.objects.create(name="Blocklist", blocked_authors=f"spammer\n{entry}, other")
    verdict = matching_rule(candidate(), account.pk)
    assert verdict is not None
    assert "@alice is blocked" in verdict.reason


def test_unblocked_author_passes(account):
    NoiseRule.objects.create(name="Blocklist", blocked_authors="spammer\n999")
    assert matching_rule(candidate(), account.pk) is None


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        ("@brand", True),
        ("@brand @other https://t.co/abc", True),
        ("@brand !!", True),
        ("@brand hi", False),
        ("@brand 👋 help", False),
    ],
)
def test_bare_mentions_are_only_handles_and_links(text, bare):
    assert is_bare_mention(text) is bare


def test_bare_mentions_are_ignored(account):
    NoiseRule.objects.create(name="Bare", ignore_bare_mentions=True)
    assert matching_rule(candidate(text="@brand https://t.co/x"), account.pk).reason.startswith("Only mentions")
    assert matching_rule(candidate(text="@brand where is my parcel"), account.pk) is None


def test_ignore_keywords_match_whole_words_case_insensitively(account):
    NoiseRule.objects.create(name="Giveaways", ignore_keywords="giveaway\nfree followers")
    assert 'keyword "GIVEAWAY"' in matching_rule(candidate(text="@brand GIVEAWAY now"), account.pk).reason
    assert matching_rule(candidate(text="@brand get FREE   followers"), account.pk) is not None
    # Substrings of other words are not keywords.
    assert matching_rule(candidate(text="@brand giveaways are fun"), account.pk) is None


def test_require_keywords_keep_only_matching_items(account):
    NoiseRule.objects.create(name="Only support", require_keywords="help, refund")
    assert matching_rule(candidate(text="@brand I want a refund"), account.pk) is None
    verdict = matching_rule(candidate(text="@brand love the product"), account.pk)
    assert verdict.reason.startswith("Contains none of the required keywords")


def test_minimum_followers(account):
    NoiseRule.objects.create(name="Min 100", min_followers=100)
    assert matching_rule(candidate(author_followers=99), account.pk).reason.startswith("Author has 99 followers")
    assert matching_rule(candidate(author_followers=100), account.pk) is None
    # A count X did not send never hides a customer.
    assert matching_rule(candidate(author_followers=None), account.pk) is None


def test_account_rules_apply_only_to_their_account(account):
    other = XAccount.objects.create(user_id="901", username="brand_help")
    NoiseRule.objects.create(name="Brand only", account=account, ignore_retweets=True)
    assert matching_rule(candidate(is_retweet=True), account.pk) is not None
    assert matching_rule(candidate(is_retweet=True), other.pk) is None
    assert matching_rule(candidate(is_retweet=True), None) is None


def test_global_rules_apply_to_every_account(account):
    NoiseRule.objects.create(name="Everywhere", ignore_retweets=True)
    assert matching_rule(candidate(is_retweet=True), account.pk) is not None
    assert matching_rule(candidate(is_retweet=True), None) is not None


def test_inactive_rules_are_skipped(account):
    NoiseRule.objects.create(name="Off", ignore_retweets=True, active=False)
    assert matching_rule(candidate(is_retweet=True), account.pk) is None


def test_first_rule_in_position_order_wins(account):
    NoiseRule.objects.create(name="Second", position=2, ignore_retweets=True)
    first = NoiseRule.objects.create(name="First", position=1, min_followers=1000)
    assert matching_rule(candidate(is_retweet=True), account.pk).rule_id == first.pk


def test_rule_changes_are_seen_at_once(account):
    rule = NoiseRule.objects.create(name="Retweets", ignore_retweets=True)
    assert matching_rule(candidate(is_retweet=True), account.pk) is not None
    rule.active = False
    rule.save()
    assert matching_rule(candidate(is_retweet=True), account.pk) is None
    rule.delete()
    assert matching_rule(candidate(is_retweet=True), account.pk) is None


def test_matching_items_costs_no_query_once_rules_are_loaded(account, django_assert_num_queries):
    NoiseRule.objects.create(name="Retweets", ignore_retweets=True)
    NoiseRule.objects.create(name="Keywords", ignore_keywords="spam")
    matching_rule(candidate(), account.pk)
    with django_assert_num_queries(0):
        for i in range(50):
            matching_rule(candidate(text=f"@brand message {i}"), account.pk)


def test_another_process_change_is_picked_up_after_the_check_interval(account, monkeypatch):
    from business_rules import noise
    from business_rules.models import RulesVersion

    rule = NoiseRule.objects.create(name="Retweets", ignore_retweets=True)
    assert matching_rule(candidate(is_retweet=True), account.pk) is not None
    # Another process switched the rule off: the row and the version change, our copy does not.
    NoiseRule.objects.filter(pk=rule.pk).update(active=False)
    RulesVersion.bump("noise")
    assert matching_rule(candidate(is_retweet=True), account.pk) is not None
    monkeypatch.setattr(noise.compiled_rules, "max_age", 0)
    assert matching_rule(candidate(is_retweet=True), account.pk) is None
