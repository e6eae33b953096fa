"""Who a reply goes to: a ticket's public replies and DMs go to its requester, never to
whoever posted last in the thread. Others in the thread are participants: shown with their
@handle, answered only when an agent picks one explicitly. Against the sandbox over HTTP."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tickets.tests.factories import UserFactory
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.answering.sending import one_to_one_id
from twitter_channel.models import IncomingItem

from .answering_sandbox import poll

pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture
def agent(db):
    return UserFactory(first_name="Dana")


@pytest.fixture
def mallory(sb) -> dict:
    return sb.create_user("mallory_x", name="Mallory")


@pytest.fixture
def thread_with_a_stranger(sb, brand, alice, mallory):
    """Alice mentions the brand; a stranger answers in her thread, after her."""
    first = sb.post_tweet(alice["id"], "@AcmeHelp my order #123 is late")
    poll(brand)
    sb.post_tweet(mallory["id"], "@alice @AcmeHelp I'm her colleague, DM me the details",
                  in_reply_to_tweet_id=first["id"])
    (joined,) = poll(brand)
    assert joined.state == IncomingItem.State.TICKETED and joined.author_x_id == mallory["id"]
    ticket = joined.ticket
    assert ticket.comments.count() == 2
    return ticket, first


def composer(ticket):
    return reverse("twitter_channel:reply", args=[ticket.pk])


def brand_posts(sb, kind):
    return [i for i in sb.timeline()["items"] if i["kind"] == kind]


def test_dm_and_public_reply_go_to_the_requester_not_the_stranger(
        client, sb, brand, alice, mallory, agent, thread_with_a_stranger, django_capture_on_commit_callbacks):
    ticket, first = thread_with_a_stranger
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(composer(ticket), {"body": "Sending you the details privately", "mode": "dm",
                                       "append_link": "0"})
        client.post(composer(ticket), {"body": "We're on it, Alice", "mode": "tweet", "append_link": "0"})

    (dm,) = brand_posts(sb, "dm")
    assert dm["dm_conversation_id"] == one_to_one_id(brand.user_id, alice["id"])
    (tweet,) = brand_posts(sb, "tweet")
    assert tweet["in_reply_to"]["id"] == first["id"]
    assert tweet["in_reply_to"]["author_id"] == alice["id"]
    assert all(o.recipient_x_id == alice["id"] for o in OutgoingMessage.objects.all())


def test_email_request_goes_to_the_requester_by_dm(
        client, sb, brand, alice, agent, thread_with_a_stranger, django_capture_on_commit_callbacks):
    ticket, _ = thread_with_a_stranger
    client.force_login(agent)

    url = reverse("twitter_channel:request_email", args=[ticket.pk])
    preview = client.post(url).content.decode()
    assert "Direct message on X to @alice" in preview and "mallory" not in preview
    text = preview.split('name="text" value="', 1)[1].split('"', 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"confirmed": "1", "text": text})

    (dm,) = brand_posts(sb, "dm")
    assert dm["dm_conversation_id"] == one_to_one_id(brand.user_id, alice["id"])
    assert dm["text"].startswith("To help you further we need your email address")
    assert "/t/" in OutgoingMessage.objects.get().text
    assert brand_posts(sb, "tweet") == []


def test_business_rules_reply_to_requester_answers_the_requester(
        sb, alice, thread_with_a_stranger, django_capture_on_commit_callbacks):
    from tickets.outbound import reply_to_requester

    ticket, first = thread_with_a_stranger

    with django_capture_on_commit_callbacks(execute=True):
        reply_to_requester(ticket, "Thanks for reaching out.")

    (tweet,) = brand_posts(sb, "tweet")
    assert tweet["in_reply_to"]["id"] == first["id"]


def test_composer_names_the_recipient_and_lists_the_stranger_as_participant(
        client, agent, thread_with_a_stranger):
    ticket, _ = thread_with_a_stranger
    client.force_login(agent)

    page = client.get(composer(ticket)).content.decode()

    assert "Public reply on X to @alice, under their post “@AcmeHelp my order #123 is late”" in page
    assert "Direct message on X to @alice" in page
    assert "@mallory_x (in the thread, not the requester)" in page


def test_ticket_page_shows_the_participants(client, agent, thread_with_a_stranger):
    ticket, _ = thread_with_a_stranger
    client.force_login(agent)

    page = client.get(ticket.get_absolute_url()).content.decode()

    assert 'aria-label="Participants"' in page and "@mallory_x" in page


def test_agent_may_answer_a_participant_when_they_pick_them(
        client, sb, brand, mallory, agent, thread_with_a_stranger, django_capture_on_commit_callbacks):
    ticket, _ = thread_with_a_stranger
    client.force_login(agent)
    stranger_post = ticket.comments.get(author_requester__identities__value=mallory["id"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(composer(ticket), {"body": "Please let Alice write to us herself", "mode": "tweet",
                                                  "to": mallory["id"], "append_link": "0"})

    assert response.status_code == 302
    (tweet,) = brand_posts(sb, "tweet")
    assert tweet["in_reply_to"]["id"] == stranger_post.external_id


def test_nobody_outside_the_ticket_can_be_picked(client, agent, thread_with_a_stranger):
    ticket, _ = thread_with_a_stranger
    client.force_login(agent)

    response = client.post(composer(ticket), {"body": "hi", "mode": "dm", "to": "12345", "append_link": "0"})

    assert response.status_code == 400
    assert OutgoingMessage.objects.count() == 0


def test_ticket_page_reply_box_answers_the_requester_too(
        client, sb, brand, alice, agent, thread_with_a_stranger, django_capture_on_commit_callbacks):
    ticket, _ = thread_with_a_stranger
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tickets:reply", args=[ticket.pk]), {
            "body": "Let's continue in private", "kind": "public:dm", "then_status": "",
            "reply_option_append_link": "0",
        })

    (dm,) = brand_posts(sb, "dm")
    assert dm["dm_conversation_id"] == one_to_one_id(brand.user_id, alice["id"])
