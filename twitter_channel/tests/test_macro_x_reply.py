"""A macro applied end to end on an X ticket, against the X sandbox over real HTTP: the
picker previews the rendered text with X's length, the reply box sends it, the brand's
reply threads under the customer's post, and the macro's actions and use are recorded."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from business_rules.models import Macro
from business_rules.tests.macro_helpers import make_macro
from tickets.models import Comment, Ticket
from tickets.tests.factories import UserFactory
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.models import IncomingItem

from .answering_sandbox import poll

pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture
def agent(db):
    return UserFactory(username="dana", first_name="Dana", last_name="Agent")


@pytest.fixture
def mention(sb, brand):
    customer = sb.create_user("alice_w", name="Alice Walker")
    tweet = sb.post_tweet(customer["id"], "@AcmeHelp my order #123 is late")
    (item,) = poll(brand)
    assert item.state == IncomingItem.State.TICKETED
    return item.ticket, tweet


def preview(client, ticket, **params) -> dict:
    response = client.get(reverse("macros:for_ticket", args=[ticket.pk]), params)
    assert response.status_code == 200
    return {m["title"]: m for m in response.json()["macros"]}


def test_macro_reply_reaches_x_and_its_actions_apply(sb, brand, mention, agent, client,
                                                     django_capture_on_commit_callbacks):
    ticket, tweet = mention
    macro = make_macro(
        "Order late",
        "Hi {{requester.first_name}}, sorry about the wait! Ticket #{{ticket.id}} is with our warehouse. "
        "^{{current_user.first_name}}",
        set_status="pending", add_tags="order-delay", set_assignee="current_user",
    )
    client.force_login(agent)

    shown = preview(client, ticket, kind="public:tweet", append_link="0")["Order late"]
    text = f"Hi Alice, sorry about the wait! Ticket #{ticket.pk} is with our warehouse. ^Dana"
    assert shown["text"] == text
    assert shown["fit"] == {"length": len(text), "limit": 280, "what": "X post", "over": 0}
    assert [c["text"] for c in shown["changes"]] == [
        "Status: New → Pending", "Assignee: Unassigned → Dana Agent", "Tags: +order-delay"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tickets:reply", args=[ticket.pk]), {
            "body": shown["text"], "kind": "public:tweet", "status_seen": ticket.status,
            "reply_option_account": str(brand.pk),
            "macro": str(macro.pk), f"macro_seen_{macro.pk}": json.dumps(shown["seen"]),
        })
    assert response.status_code == 302

    outgoing = OutgoingMessage.objects.get()
    assert outgoing.state == OutgoingMessage.State.SENT and outgoing.text == text
    (root,) = sb.thread(tweet["id"])["thread"]
    assert [(r["id"], r["text"]) for r in root["replies"]] == [(outgoing.x_id, text)]
    ticket.refresh_from_db()
    # The reply itself opened the new ticket (the agent's own move): the macro's Pending follows it.
    assert ticket.status == Ticket.Status.PENDING and ticket.assignee == agent
    assert list(ticket.tags.values_list("name", flat=True)) == ["order-delay"]
    assert ticket.comments.get(author_user=agent).delivery == Comment.Delivery.SENT
    assert Macro.objects.get(pk=macro.pk).usage_count == 1


def test_length_is_checked_after_the_placeholders(sb, brand, mention, agent, client, settings,
                                                  django_capture_on_commit_callbacks):
    """250 characters typed, 280+ once {{ticket.subject}} is filled in: the preview says so,
    and X's sender refuses it on submit, applying nothing."""
    settings.SITE_URL = "https://help.acme.com"  # a real domain: X counts the link as 23
    ticket, _ = mention
    Ticket.objects.filter(pk=ticket.pk).update(subject="My order #123 from last Tuesday is late again")
    macro = make_macro("Long", "x" * 250 + " {{ticket.subject}}", set_status="pending")
    client.force_login(agent)

    shown = preview(client, ticket, kind="public:tweet", append_link="0")["Long"]
    assert shown["fit"]["length"] == 250 + 1 + 45 and shown["fit"]["over"] == 16
    # The same text as a DM fits; an internal note is not measured at all.
    assert preview(client, ticket, kind="public:dm")["Long"]["fit"]["what"] == "X direct message"
    assert preview(client, ticket, kind="public:dm")["Long"]["fit"]["over"] == 0
    assert preview(client, ticket, kind="internal")["Long"]["fit"] is None
    # With the ticket link appended, the link's 23 count too.
    with_link = preview(client, ticket, kind="public:tweet", append_link="1")["Long"]["fit"]
    assert with_link["length"] == 250 + 1 + 45 + 1 + 23 and with_link["what"] == "X post with the ticket link"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tickets:reply", args=[ticket.pk]), {
            "body": shown["text"], "kind": "public:tweet",
            "macro": str(macro.pk), f"macro_seen_{macro.pk}": json.dumps(shown["seen"]),
        })
    assert response.status_code == 400 and "Too long for X: 296 of 280" in response.content.decode()
    assert not OutgoingMessage.objects.exists() and sb.timeline()["items"] == []
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW and Macro.objects.get(pk=macro.pk).usage_count == 0
