"""The incoming stream pages: who may see and act on them, what they list, filters, search,
paging, and a query count that does not grow with the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from twitter_channel.intake.models import BulkConversion
from twitter_channel.models import IncomingItem

from .answering_helpers import make_account, make_item, roles

Kind = IncomingItem.Kind
State = IncomingItem.State


@pytest.fixture
def account(db):
    return make_account()


@pytest.fixture
def item(account):
    return make_item(account, state=State.IGNORED, state_reason="Matched a noise rule", rule="Spam words")


def stream_pages(account, item, bulk):
    return [
        ("get", reverse("twitter_channel:stream")),
        ("get", reverse("twitter_channel:account_stream", args=[account.pk])),
        ("post", reverse("twitter_channel:convert_item", args=[item.pk])),
        ("post", reverse("twitter_channel:ignore_item", args=[item.pk])),
        ("post", reverse("twitter_channel:unignore_item", args=[item.pk])),
        ("post", reverse("twitter_channel:bulk_convert")),
        ("get", reverse("twitter_channel:bulk_result", args=[bulk.pk])),
        ("get", reverse("twitter_channel:bulk_progress", args=[bulk.pk])),
    ]


@pytest.mark.parametrize("role", ["agent", "restricted"])
def test_agents_cannot_see_or_use_the_incoming_stream(client, account, item, role):
    bulk = BulkConversion.objects.create(item_ids=[item.pk], total=1)
    client.force_login(roles()[role])

    for method, url in stream_pages(account, item, bulk):
        response = getattr(client, method)(url, {"item_ids": [item.pk]})
        assert response.status_code == 404, url
    item.refresh_from_db()
    assert item.state == State.IGNORED and item.ticket_id is None


def test_anonymous_visitors_are_sent_to_login(client, account, item):
    bulk = BulkConversion.objects.create(item_ids=[item.pk], total=1)

    for method, url in stream_pages(account, item, bulk):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_admin_sees_everything_fetched_newest_first_with_why_it_was_left_aside(client, account, item):
    client.force_login(roles()["admin"])
    retweet = make_item(account, text="RT @AcmeHelp: great", state=State.RETWEET, state_reason="Retweet")
    dm = make_item(account, kind=Kind.DM, text="hello in private", state=State.NOT_CAPTURED,
                   state_reason="Direct messages are not captured for this account", conversation="1-2")
    group = make_item(account, kind=Kind.DM, text="group chat", state=State.GROUP_DM, conversation="777")
    like = make_item(account, kind=Kind.LIKE, text="nice product", state=State.QUARANTINED)

    response = client.get(reverse("twitter_channel:stream"))

    assert response.status_code == 200
    listed = [i.pk for i, _ in response.context["rows"]]
    assert listed == [like.pk, group.pk, dm.pk, retweet.pk, item.pk]
    html = response.content.decode()
    assert "Spam words" in html and "Direct messages are not captured" in html


def test_filters_by_kind_state_and_account(client, account, item):
    other = make_account("AcmeShop", user_id="900000000000000002")
    dm = make_item(account, kind=Kind.DM, text="dm", conversation="1-2")
    other_mention = make_item(other, text="@AcmeShop hi")
    client.force_login(roles()["admin"])
    url = reverse("twitter_channel:stream")

    def listed(**params):
        return {i.pk for i, _ in client.get(url, params).context["rows"]}

    assert listed(kind="dm") == {dm.pk}
    assert listed(state="ignored") == {item.pk}
    assert listed(account=other.pk) == {other_mention.pk}
    by_account_page = client.get(reverse("twitter_channel:account_stream", args=[other.pk])).context["rows"]
    assert {i.pk for i, _ in by_account_page} == {other_mention.pk}


def test_search_finds_text_and_author_handle(client, account):
    late = make_item(account, text="@AcmeHelp where is my parcel", handle="bob")
    make_item(account, text="@AcmeHelp love it", handle="carol")
    client.force_login(roles()["admin"])
    url = reverse("twitter_channel:stream")

    assert [i.pk for i, _ in client.get(url, {"q": "PARCEL"}).context["rows"]] == [late.pk]
    assert [i.pk for i, _ in client.get(url, {"q": "@bob"}).context["rows"]] == [late.pk]


def test_tweet_text_is_escaped(client, account):
    make_item(account, text='<script>alert("x")</script>')
    client.force_login(roles()["admin"])

    html = client.get(reverse("twitter_channel:stream")).content.decode()

    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_stream_is_paginated(client, account, settings):
    for n in range(55):
        make_item(account, text=f"@AcmeHelp message {n}")
    client.force_login(roles()["admin"])

    first = client.get(reverse("twitter_channel:stream"))
    second = client.get(reverse("twitter_channel:stream"), {"page": 2})

    assert len(first.context["rows"]) == 50 and len(second.context["rows"]) == 5
    assert "message 54" in first.content.decode() and "message 0" in second.content.decode()


def test_query_count_does_not_grow_with_the_page(client, account, django_assert_max_num_queries):
    other = make_account("AcmeShop", user_id="900000000000000002")
    client.force_login(roles()["admin"])
    make_item(account)
    with django_assert_max_num_queries(50) as few:
        client.get(reverse("twitter_channel:stream"))
    for n in range(40):
        item = make_item(other if n % 2 else account, text=f"@AcmeHelp {n}")
        if n % 3 == 0:
            from tickets.tests.factories import TicketFactory

            item.ticket = TicketFactory()
            item.state = State.TICKETED
            item.save()

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("twitter_channel:stream"))
    assert len(response.context["rows"]) == 41
