"""Two agents on one ticket: an edit saves what its author changed, never the rest of an
old page, and a change that contradicts another agent's is refused with what they did."""

import pytest
from django.urls import reverse

from tickets.models import Ticket

from .factories import TicketFactory, UserFactory
from .page_forms import form_data
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def properties_on_page(client, ticket) -> dict:
    """The properties form as the agent's browser holds it right now."""
    return form_data(client.get(ticket.get_absolute_url()).content.decode(), "properties-form")


def save(client, ticket, data):
    return client.post(reverse("tickets:update", args=[ticket.pk]), data)


@pytest.fixture
def maria(db):
    return UserFactory(username="maria", first_name="Maria")


@pytest.fixture
def ben(db):
    return UserFactory(username="ben", first_name="Ben")


def test_a_tag_added_on_an_older_page_keeps_the_other_agents_priority_and_assignee(client, maria, ben):
    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    client.force_login(ben)
    bens_page = properties_on_page(client, ticket)

    client.force_login(maria)
    marias_page = properties_on_page(client, ticket)
    save(client, ticket, {**marias_page, "priority": str(Ticket.Priority.URGENT), "assignee": str(maria.pk)})

    client.force_login(ben)
    response = save(client, ticket, {**bens_page, "tags": "vip"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT
    assert ticket.assignee == maria
    assert list(ticket.tags.values_list("name", flat=True)) == ["vip"]


def test_a_change_both_agents_made_differently_is_refused_with_what_the_other_did(client, maria, ben):
    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    client.force_login(ben)
    bens_page = properties_on_page(client, ticket)
    client.force_login(maria)
    save(client, ticket, {**properties_on_page(client, ticket), "priority": str(Ticket.Priority.URGENT)})

    client.force_login(ben)
    response = save(client, ticket, {**bens_page, "priority": str(Ticket.Priority.LOW), "tags": "billing"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Priority: Maria changed it from Normal to Urgent" in html
    assert "your Low was not saved" in html
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT
    assert not ticket.tags.exists()  # nothing of the refused save was applied
    # Ben keeps his input, and the form now knows what Maria did: submitting it again is a
    # deliberate choice over hers, and goes through.
    retry = form_data(html, "properties-form")
    assert (retry["priority"], retry["tags"]) == (str(Ticket.Priority.LOW), "billing")
    assert retry["initial-priority"] == str(Ticket.Priority.URGENT)
    assert save(client, ticket, retry).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.LOW
    assert list(ticket.tags.values_list("name", flat=True)) == ["billing"]


def test_the_same_change_made_by_both_agents_is_no_conflict(client, maria, ben):
    ticket = TicketFactory()
    client.force_login(ben)
    bens_page = properties_on_page(client, ticket)
    client.force_login(maria)
    save(client, ticket, {**properties_on_page(client, ticket), "assignee": str(maria.pk)})

    client.force_login(ben)
    response = save(client, ticket, {**bens_page, "assignee": str(maria.pk)})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == maria


def test_tags_merge_what_each_agent_added_and_removed(client, maria, ben):
    from tickets.lifecycle import update_ticket

    ticket = TicketFactory()
    update_ticket(ticket, tags=["refund", "stale"])
    client.force_login(ben)
    bens_page = properties_on_page(client, ticket)
    client.force_login(maria)
    save(client, ticket, {**properties_on_page(client, ticket), "tags": "refund stale vip"})

    client.force_login(ben)
    assert save(client, ticket, {**bens_page, "tags": "refund"}).status_code == 302  # removes "stale"

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip"]


def test_a_customer_reply_that_reopened_the_ticket_survives_an_older_page(client, ben):
    from tickets.comments import add_comment

    ticket = TicketFactory(status=Ticket.Status.PENDING)
    client.force_login(ben)
    bens_page = properties_on_page(client, ticket)
    add_comment(ticket, body="still broken", author_requester=ticket.requester)  # reopens it

    save(client, ticket, {**bens_page, "priority": str(Ticket.Priority.HIGH)})

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.comment_count) == (Ticket.Status.OPEN, Ticket.Priority.HIGH, 1)


def test_the_conflict_message_escapes_what_the_other_agent_is_called(client, ben):
    mallory = UserFactory(username="mallory", first_name="<img src=x onerror=alert(1)>")
    ticket = TicketFactory()
    client.force_login(ben)
    bens_page = properties_on_page(client, ticket)
    client.force_login(mallory)
    save(client, ticket, {**properties_on_page(client, ticket), "status": "pending"})

    client.force_login(ben)
    html = save(client, ticket, {**bens_page, "status": "solved"}).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; changed it from Open to Pending" not in html  # status was New
    assert "&lt;img src=x onerror=alert(1)&gt; changed it from New to Pending" in html


def test_a_post_without_the_pages_values_is_applied_as_sent(client, ben):
    """A script (or a page cached from before this form) sends no initial values: its
    fields are compared with the ticket as it is now, as they always were."""
    ticket = TicketFactory(priority=Ticket.Priority.HIGH)
    client.force_login(ben)
    response = save(client, ticket, {"status": "open", "priority": "1", "tags": "a"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("open", 1)


def reply_on_page(client, ticket) -> dict:
    return form_data(client.get(ticket.get_absolute_url()).content.decode(), "reply-form")


def test_reply_and_solve_from_an_old_page_keeps_the_status_another_agent_set(client, maria, ben):
    from tickets.lifecycle import update_ticket

    ticket = TicketFactory(status=Ticket.Status.OPEN)
    client.force_login(ben)
    bens_reply = reply_on_page(client, ticket)
    update_ticket(ticket, status=Ticket.Status.PENDING, actor=maria)

    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]), {**bens_reply, "body": "Done!", "then_status": "solved"}
    )

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    assert ticket.comments.get().body == "Done!"
    shown = " ".join(str(m) for m in response.wsgi_request._messages)
    assert "the status was not changed: Status: Maria changed it from Open to Pending" in shown


def test_reply_and_solve_on_a_new_ticket_is_no_conflict_with_itself(client, ben):
    ticket = TicketFactory(status=Ticket.Status.NEW)
    client.force_login(ben)
    page = reply_on_page(client, ticket)
    client.post(reverse("tickets:reply", args=[ticket.pk]), {**page, "body": "Fixed", "then_status": "solved"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
