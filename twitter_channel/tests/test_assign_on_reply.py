"""An account's "replying assigns an unassigned ticket to the agent who replies": the reply
is queued through the sandbox-connected brand, and the ticket is taken in the same step."""

from __future__ import annotations

import pytest
from django.urls import reverse

from business_rules.tests.helpers import make_trigger
from tickets.lifecycle import update_ticket
from tickets.models import Ticket, TicketEvent
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.answering import replies
from twitter_channel.models import IncomingItem

from .answering_sandbox import poll

pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture
def agent(db):
    return UserFactory(username="dana", first_name="Dana", last_name="Agent")


@pytest.fixture
def ticket(sb, brand, alice) -> Ticket:
    sb.post_tweet(alice["id"], "@AcmeHelp my order #123 is late")
    (item,) = poll(brand)
    assert item.state == IncomingItem.State.TICKETED and item.ticket.assignee_id is None
    return item.ticket


def answer(ticket, agent, client):
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "On it!", "kind": "public"})
    assert response.status_code == 302
    ticket.refresh_from_db()


def test_reply_takes_the_unassigned_ticket_when_the_account_says_so(ticket, brand, agent, client):
    brand.assign_on_reply = True
    brand.save()
    answer(ticket, agent, client)
    assert ticket.assignee == agent
    event = TicketEvent.objects.get(ticket=ticket, field=TicketEvent.Field.ASSIGNEE)
    assert (event.actor_user, event.old_label, event.new_label) == (agent, "Unassigned", "Dana Agent")


def test_without_the_option_the_ticket_stays_unassigned(ticket, agent, client):
    answer(ticket, agent, client)
    assert ticket.assignee is None and ticket.comments.filter(author_user=agent).exists()


def test_an_assigned_ticket_stays_with_its_assignee(ticket, brand, agent, client):
    brand.assign_on_reply = True
    brand.save()
    walter = UserFactory(username="walter")
    update_ticket(ticket, assignee_id=walter.pk, actor=walter)
    answer(ticket, agent, client)
    assert ticket.assignee == walter


def test_assigned_by_someone_else_since_the_page_was_drawn_stays_theirs(ticket, brand, agent):
    brand.assign_on_reply = True
    brand.save()
    walter = UserFactory(username="walter")
    stale = Ticket.objects.get(pk=ticket.pk)  # drawn unassigned
    update_ticket(ticket, assignee_id=walter.pk, actor=walter)
    replies.reply_on_x(stale, "On it!", agent)
    ticket.refresh_from_db()
    assert ticket.assignee == walter


def test_a_triggers_reply_assigns_nobody(ticket, brand, django_capture_on_commit_callbacks):
    brand.assign_on_reply = True
    brand.save()
    make_trigger("Auto-answer", all=[("status", "is", "new")], actions=[("reply_to_requester", "", "", "Thanks!")])
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, priority=Ticket.Priority.HIGH)
    ticket.refresh_from_db()
    assert ticket.comments.filter(body="Thanks!").exists()
    assert ticket.assignee is None


def test_admin_switches_it_on_in_the_account_page(client, brand):
    client.force_login(AdminFactory())
    page = client.get(reverse("twitter_channel:account_settings", args=[brand.pk])).content.decode()
    assert "Replying assigns an unassigned ticket to the agent who replies" in page
    response = client.post(reverse("twitter_channel:account_settings", args=[brand.pk]), {
        "capture_mentions": "on", "allowed_for_replies": "on", "assign_on_reply": "on", "is_active": "on"})
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.assign_on_reply
