"""The X cost meter follows X's billing rules, each with a counted example
(shared/x-api/README.md, "Prices"): items returned by kind, owned reads, the once-per-UTC-day
rule, writes with and without a URL, Activity API events, and nothing for failures."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from twitter_channel.costs import meter as cost_meter
from twitter_channel.costs.models import XCostDay, XCostSeenItem
from twitter_channel.models import XAccount
from twitter_channel.realtime.intake import process_pending, record_event
from twitter_channel.x.pricing import Kind, charges_for, price

BRAND_ID = "1000"
TODAY = date(2026, 11, 30)


def body(**parts) -> bytes:
    return json.dumps(parts).encode()


def post(pid: str, author: str = "1") -> dict:
    return {"id": pid, "text": "hi", "author_id": author}


MENTIONS_PAGE = body(
    data=[post("11", "1"), post("12", "1"), post("13", "2")],
    includes={"users": [{"id": "1", "username": "alice"}, {"id": "2", "username": "bob"}],
              "tweets": [post("9", "1")]},
    meta={"result_count": 3},
)


@pytest.fixture
def account(db) -> XAccount:
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeSupport")


def billed(account) -> dict[str, tuple[int, Decimal]]:
    """Items and dollars by kind, over every day and stream."""
    rows = XCostDay.objects.filter(account=account).values("kind").annotate(n=Sum("items"), c=Sum("cost_micros"))
    return {row["kind"]: (row["n"], Decimal(row["c"]) / 1_000_000) for row in rows}


def total(account) -> Decimal:
    return sum((cost for _, cost in billed(account).values()), Decimal(0))


def test_default_prices_are_xs_of_2026():
    assert price(Kind.POST_READ) == Decimal("0.005")
    assert price(Kind.OWNED_READ) == Decimal("0.001")
    assert price(Kind.USER_READ) == Decimal("0.010")
    assert price(Kind.DM_EVENT_READ) == Decimal("0.010")
    assert price(Kind.POST_WRITE) == Decimal("0.015")
    assert price(Kind.POST_WITH_URL_WRITE) == Decimal("0.200")
    assert price(Kind.DM_WRITE) == Decimal("0.015")
    assert (price(Kind.POST_EVENT), price(Kind.LIKE_EVENT), price(Kind.DM_EVENT)) == (
        Decimal("0.005"), Decimal("0.001"), Decimal("0.010"))


def test_prices_are_settings(settings):
    settings.X_PRICE_POST_WITH_URL = "0.25"
    assert price(Kind.POST_WITH_URL_WRITE) == Decimal("0.25")


def test_own_mentions_are_owned_reads_and_their_authors_and_quoted_posts_are_billed_as_such(account):
    charges = charges_for("GET", f"/2/users/{BRAND_ID}/mentions", 200, None, MENTIONS_PAGE, own_user_id=BRAND_ID)
    cost_meter.record(account.pk, charges, day=TODAY)
    # 3 mentions × $0.001 + 2 authors × $0.010 + 1 referenced post × $0.005 = $0.028
    assert billed(account) == {Kind.OWNED_READ: (3, Decimal("0.003")), Kind.USER_READ: (2, Decimal("0.02")),
                               Kind.POST_READ: (1, Decimal("0.005"))}
    assert total(account) == Decimal("0.028")


def test_someone_elses_likes_and_post_lookups_are_ordinary_post_reads(account):
    page = body(data=[post("21"), post("22")])
    cost_meter.record(account.pk, charges_for("GET", "/2/users/555/liked_tweets", 200, None, page,
                                              own_user_id=BRAND_ID), day=TODAY)
    cost_meter.record(account.pk, charges_for("GET", "/2/tweets", 200, None, body(data=[post("23")]),
                                              own_user_id=BRAND_ID), day=TODAY)
    assert billed(account) == {Kind.POST_READ: (3, Decimal("0.015"))}


def test_dm_events_and_user_lookups(account):
    page = body(data=[{"id": "d1", "event_type": "MessageCreate"}, {"id": "d2", "event_type": "MessageCreate"}],
                includes={"users": [{"id": "1"}]})
    cost_meter.record(account.pk, charges_for("GET", "/2/dm_events", 200, None, page, own_user_id=BRAND_ID),
                      day=TODAY)
    cost_meter.record(account.pk, charges_for("GET", "/2/users/me", 200, None, body(data={"id": BRAND_ID}),
                                              own_user_id=BRAND_ID), day=TODAY)
    # 2 DM events × $0.010, users 1 and the brand × $0.010
    assert billed(account) == {Kind.DM_EVENT_READ: (2, Decimal("0.02")), Kind.USER_READ: (2, Decimal("0.02"))}


def test_the_same_item_read_again_the_same_utc_day_is_billed_once(account):
    charges = charges_for("GET", f"/2/users/{BRAND_ID}/mentions", 200, None, MENTIONS_PAGE, own_user_id=BRAND_ID)
    cost_meter.record(account.pk, charges, day=TODAY)
    cost_meter.record(account.pk, charges, day=TODAY)
    # the post lookup of mention 11 and its author, read already today: nothing more
    cost_meter.record(account.pk, charges_for("GET", "/2/tweets/11", 200, None, body(
        data=post("11"), includes={"users": [{"id": "1"}]}), own_user_id=BRAND_ID), day=TODAY)
    assert total(account) == Decimal("0.028")
    # the next UTC day they are billed again
    cost_meter.record(account.pk, charges, day=TODAY + timedelta(days=1))
    assert total(account) == Decimal("0.056")


def test_the_once_a_day_rule_holds_across_accounts_as_x_bills_the_app(account):
    other = XAccount.objects.create(user_id="2000", username="AcmeShop")
    page = body(data=[post("31")])
    cost_meter.record(account.pk, charges_for("GET", "/2/tweets", 200, None, page, own_user_id=BRAND_ID), day=TODAY)
    cost_meter.record(other.pk, charges_for("GET", "/2/tweets", 200, None, page, own_user_id="2000"), day=TODAY)
    assert total(account) == Decimal("0.005") and total(other) == 0


def test_seen_items_of_earlier_days_are_pruned(account):
    charges = charges_for("GET", "/2/tweets", 200, None, body(data=[post("41"), post("42")]), own_user_id=None)
    cost_meter.record(account.pk, charges, day=TODAY - timedelta(days=1))
    cost_meter.record(account.pk, charges[:1], day=TODAY)
    assert cost_meter.prune_seen_items(today=TODAY) == 2
    assert list(XCostSeenItem.objects.values_list("day", "item")) == [(TODAY, "post:41")]


def test_writes_are_billed_per_request_and_a_url_makes_a_post_cost_0_20(account):
    def write(path: str, text: str):
        request = json.dumps({"text": text}).encode()
        cost_meter.record(account.pk, charges_for("POST", path, 201, request, body(data={"id": "1"}),
                                                  own_user_id=BRAND_ID), day=TODAY)

    write("/2/tweets", "@alice Thanks, sorted!")
    write("/2/tweets", "@alice Thanks, sorted!")  # writes have no once-a-day rule
    write("/2/tweets", "@alice see https://help.example.com/t/42")
    write("/2/tweets", "@alice see example.com")  # X finds bare domains too
    write("/2/dm_conversations/with/1/messages", "Here is a link: https://help.example.com")
    assert billed(account) == {Kind.POST_WRITE: (2, Decimal("0.03")), Kind.POST_WITH_URL_WRITE: (2, Decimal("0.4")),
                               Kind.DM_WRITE: (1, Decimal("0.015"))}
    assert dict(XCostDay.objects.values_list("stream", "items")) == {"replies": 2, "links": 2, "dm_replies": 1}


def test_failed_calls_and_unpriced_calls_cost_nothing():
    assert charges_for("GET", "/2/tweets", 429, None, b'{"title": "Too Many Requests"}', own_user_id=None) == []
    assert charges_for("POST", "/2/tweets", 403, b'{"text": "x"}', b"{}", own_user_id=None) == []
    assert charges_for("DELETE", "/2/tweets/1", 200, None, b'{"data": {"deleted": true}}', own_user_id=None) == []
    assert charges_for("POST", "/2/webhooks", 200, b"{}", b'{"data": {"id": "1"}}', own_user_id=None) == []
    # a lookup of a deleted post returns only an error: no item, no charge
    assert charges_for("GET", "/2/tweets/5", 200, None, b'{"errors": [{"detail": "gone"}]}', own_user_id=None) == []


def envelope(event_type: str, event_id: str, user_id: str = BRAND_ID) -> str:
    return json.dumps({"data": {"event_type": event_type, "event_uuid": event_id, "filter": {"user_id": user_id},
                                "payload": {"id": "77", "text": "@AcmeSupport hi", "author_id": "1"}}})


def test_activity_api_events_are_billed_once_each_by_type(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        record_event(envelope("post.mention.create", "e1"), "webhook")
        record_event(envelope("post.mention.create", "e1"), "webhook")  # redelivered: the same event
        record_event(envelope("like.create", "e2"), "webhook")
        record_event(envelope("dm.received", "e3"), "stream")
        record_event(envelope("dm.received", "e4", user_id="999"), "stream")  # no account of ours
    assert billed(account) == {}  # billed as processed, not while X waits for the webhook's answer

    process_pending()
    process_pending()
    with django_capture_on_commit_callbacks():
        record_event(envelope("like.create", "e2"), "webhook")  # redelivered after processing
    process_pending()

    # $0.005 + $0.001 + $0.010
    assert billed(account) == {Kind.POST_EVENT: (1, Decimal("0.005")), Kind.LIKE_EVENT: (1, Decimal("0.001")),
                               Kind.DM_EVENT: (1, Decimal("0.01"))}
