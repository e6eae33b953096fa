"""Real X responses (recorded from api.twitter.com) through the adapter's parser, the store
and conversion. The recordings asked for no extra fields, so they lack author_id and
created_at: as the production parser reads them they are unusable and must be quarantined,
not dropped; with those fields added (as X sends them when asked) they become tickets."""

from __future__ import annotations

import copy

import pytest

from tickets.models import Channel, Ticket
from twitter_channel.intake import conversion
from twitter_channel.intake.store import items_from_page, store_items
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.x import parsing as x_parsing

from .fakes import recorded

BRAND = "783214"  # the account the recordings were made with (@Twitter)


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND, username="Twitter", access_token="tok")


def body(name: str, uri_part: str = "") -> dict:
    exchange = next(e for e in recorded(name) if e["request"]["method"] == "GET" and uri_part in e["request"]["uri"])
    return copy.deepcopy(exchange["response"]["body"])


def with_fields(data: list[dict], **extra) -> list[dict]:
    for n, raw in enumerate(data):
        raw.setdefault("author_id", str(5000 + n % 3))
        raw.setdefault("created_at", "2022-10-07T22:00:00.000Z")
        raw.setdefault("conversation_id", raw["id"])
        raw.update(extra)
    return data


def store_page(account, stream, page_body, parse):
    page = x_parsing.parse_page(page_body, parse)
    rows = items_from_page(account, stream, page)
    rows.reverse()
    return store_items(rows)


def test_recorded_default_mentions_are_quarantined_once_each(account):
    page_body = body("client_get_users_mentions.json")
    count = len(page_body["data"])
    assert store_page(account, "mentions", page_body, x_parsing.parse_tweet) == count
    assert store_page(account, "mentions", page_body, x_parsing.parse_tweet) == 0
    conversion.convert_pending(account.pk)
    items = IncomingItem.objects.all()
    assert items.count() == count
    assert set(items.values_list("state", flat=True)) == {"quarantined"}
    assert "author_id" in items.first().state_reason
    assert {i.raw["id"] for i in items} == {t["id"] for t in page_body["data"]}
    assert Ticket.objects.count() == 0


def test_recorded_mentions_with_fields_become_tickets(account):
    page_body = body("client_get_users_mentions.json")
    with_fields(page_body["data"])
    count = len(page_body["data"])
    store_page(account, "mentions", page_body, x_parsing.parse_tweet)
    conversion.convert_pending(account.pk)
    assert Ticket.objects.filter(channel=Channel.X).count() == count
    first = page_body["data"][0]
    ticket = Ticket.objects.get(comments__external_id=first["id"])
    assert ticket.subject.startswith("this is my ENTIRE feed, why do you think i want this.")
    assert len(ticket.subject) <= 80
    assert ticket.comments.get().body == first["text"]


def test_recorded_likes_become_like_tickets(account):
    page_body = body("client_get_liked_tweets.json")
    with_fields(page_body["data"])
    store_page(account, "likes", page_body, x_parsing.parse_tweet)
    conversion.convert_pending(account.pk)
    assert Ticket.objects.filter(channel=Channel.X_LIKE).count() == len(page_body["data"])


def test_recorded_dm_conversation_becomes_one_ticket_in_order(account):
    page_body = body("manage_and_lookup_direct_messages.json", "/dm_conversations/750362064426721281-")
    conversation = "750362064426721281-1072250532645998596"
    for raw in page_body["data"]:
        raw.update(dm_conversation_id=conversation, sender_id="750362064426721281",
                   created_at="2022-10-28T01:23:00.000Z")
    account.user_id = "1072250532645998596"
    account.save()
    store_page(account, "dms", page_body, x_parsing.parse_dm_event)
    conversion.convert_pending(account.pk)
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.X_DM
    assert list(ticket.comments.values_list("body", flat=True)) == ["Testing 1", "Testing 2"]


def test_recorded_empty_dm_page_stores_nothing(account):
    assert store_page(account, "dms", body("manage_and_lookup_direct_messages.json", "/2/dm_events"),
                      x_parsing.parse_dm_event) == 0
