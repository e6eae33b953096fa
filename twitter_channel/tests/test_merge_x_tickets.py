"""A customer's mention and DM about the same order, merged into one ticket (either way
round): the agent's public reply answers her post and the DM goes to her conversation, and
what she sends afterwards on either lands on the merged ticket. Against the sandbox over
HTTP, through the pages agents use."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tickets.models import Ticket
from tickets.tests.factories import UserFactory
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.models import IncomingItem, XAccount

from .answering_sandbox import poll

pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture
def agent(db):
    return UserFactory(username="dana", first_name="Dana")


def brand_posts(sb, kind):
    return [i for i in sb.timeline()["items"] if i["kind"] == kind]


@pytest.mark.parametrize("into", ["mention", "dm"])
def test_replies_after_a_merge_reach_the_post_and_the_conversation(
        client, sb, brand, alice, agent, into, django_capture_on_commit_callbacks):
    post = sb.post_tweet(alice["id"], "@AcmeHelp my order 123 never arrived")
    (mention_item,) = poll(brand)
    sb.send_dm(alice["id"], "It's order 123, sent to Leeds", recipient=brand.user_id)
    (dm_item,) = poll(brand, "dms")
    mention, dm = mention_item.ticket, dm_item.ticket
    assert mention != dm and mention.requester_id == dm.requester_id
    target, source = (mention, dm) if into == "mention" else (dm, mention)
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True):
        merged = client.post(reverse("tickets:merge_confirm", args=[source.pk]),
                             {"target": target.pk, "source_status_seen": source.status})
    assert merged.status_code == 302 and merged.url == target.get_absolute_url()
    # A colleague answers in the DM conversation from X's own app: the brand's DM joins the
    # ticket now holding that conversation, not the closed one.
    sb.send_dm(brand.user_id, "Checking with the courier now", recipient=alice["id"])
    (typed_on_x,) = poll(brand, "dms")
    assert typed_on_x.kind == IncomingItem.Kind.OWN_DM and typed_on_x.comment.ticket_id == target.pk

    composer = reverse("twitter_channel:reply", args=[target.pk])
    with django_capture_on_commit_callbacks(execute=True):
        public = client.post(composer, {"body": "Sorry Alice, we're on it", "mode": "tweet", "append_link": "0"})
        private = client.post(composer, {"body": "Your parcel is in Leeds depot", "mode": "dm", "append_link": "0"})
    assert (public.status_code, private.status_code) == (302, 302)
    (tweet,) = brand_posts(sb, "tweet")
    assert tweet["in_reply_to"]["id"] == post["id"] and tweet["in_reply_to"]["author_id"] == alice["id"]
    (dm_sent,) = [d for d in brand_posts(sb, "dm") if d["text"] == "Your parcel is in Leeds depot"]
    assert dm_sent["dm_conversation_id"] == dm_item.conversation_key

    # Alice answers on both; each lands on the merged ticket, neither opens a ticket.
    sb.post_tweet(alice["id"], "@AcmeHelp thanks! tracking number?", in_reply_to_tweet_id=tweet["id"])
    (later_post,) = poll(brand)
    sb.send_dm(alice["id"], "Which depot exactly?", recipient=brand.user_id)
    later_dms = poll(brand, "dms")
    assert sorted(i.kind for i in later_dms) == ["dm", "own_dm"]  # hers, and the echo of our DM

    assert Ticket.objects.count() == 2
    assert later_post.ticket_id == target.pk and later_post.comment.ticket_id == target.pk
    assert all(i.comment.ticket_id == target.pk for i in later_dms)
    bodies = list(Ticket.objects.get(pk=target.pk).comments.values_list("body", flat=True))
    assert {"@AcmeHelp thanks! tracking number?", "Which depot exactly?", "Checking with the courier now"} <= set(bodies)
    assert Ticket.objects.get(pk=source.pk).comments.count() == 1  # the merge note alone


def test_a_dm_goes_out_from_the_account_the_conversation_is_with(
        client, sb, brand, alice, agent, django_capture_on_commit_callbacks):
    shop_user = sb.create_user("AcmeShop", name="Acme Shop", brand=True)
    shop = XAccount.objects.create(user_id=shop_user["id"], username="AcmeShop", display_name="Acme Shop",
                                   access_token=sb.mint_token(shop_user["id"])["access_token"])
    sb.post_tweet(alice["id"], "@AcmeHelp my order 123 never arrived")
    (mention_item,) = poll(brand)
    sb.send_dm(alice["id"], "It's order 123", recipient=shop.user_id)  # to the shop's account
    (dm_item,) = poll(shop, "dms")
    mention = mention_item.ticket
    client.force_login(agent)
    client.post(reverse("tickets:merge_confirm", args=[dm_item.ticket_id]),
                {"target": mention.pk, "source_status_seen": "new"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("twitter_channel:reply", args=[mention.pk]),
                               {"body": "Found it", "mode": "dm", "append_link": "0"})

    assert response.status_code == 302
    outgoing = OutgoingMessage.objects.get(kind=OutgoingMessage.Kind.DM)
    assert outgoing.account_id == shop.pk
    (dm_sent,) = brand_posts(sb, "dm")
    assert dm_sent["dm_conversation_id"] == dm_item.conversation_key
