"""The ticket's change page in the Django admin is a page that may be left open too: it
saves what the admin changed, logs it, and refuses what another agent changed since."""

import pytest
from django.urls import reverse

from tickets.lifecycle import update_ticket
from tickets.models import Ticket, TicketEvent

from .factories import AdminFactory, TicketFactory, UserFactory
from .page_forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(db):
    return AdminFactory(username="ada", first_name="Ada")


def change_page(client, ticket) -> dict:
    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    return form_data(html, "ticket_form")


def test_an_old_admin_page_saves_only_what_the_admin_changed_and_logs_it(client, ada):
    maria = UserFactory(first_name="Maria")
    ticket = TicketFactory(subject="Printer", priority=Ticket.Priority.NORMAL)
    update_ticket(ticket, tags=["hardware"])
    client.force_login(ada)
    page = change_page(client, ticket)
    update_ticket(ticket, priority=Ticket.Priority.URGENT, assignee=maria, add_tags=["vip"], actor=maria)

    response = client.post(reverse("admin:tickets_ticket_change", args=[ticket.pk]), {**page, "subject": "Printer on fire"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority, ticket.assignee) == ("Printer on fire", Ticket.Priority.URGENT, maria)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["hardware", "vip"]
    last = ticket.events.last()
    assert (last.actor_kind, last.actor_user, last.field, last.new_label) == (
        TicketEvent.ActorKind.AGENT, ada, "subject", "Printer on fire"
    )


def test_an_admin_change_contradicting_an_agents_is_refused(client, ada):
    maria = UserFactory(first_name="Maria")
    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    client.force_login(ada)
    page = change_page(client, ticket)
    update_ticket(ticket, priority=Ticket.Priority.URGENT, actor=maria)

    response = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]), {**page, "priority": str(Ticket.Priority.LOW)}
    )

    assert response.status_code == 200  # the form again, with the error
    assert "Priority: Maria changed it from Normal to Urgent" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT


def test_an_admin_still_adds_a_ticket_and_reads_the_log(client, ada):
    from .factories import RequesterFactory

    requester = RequesterFactory()
    client.force_login(ada)
    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 200
    response = client.post(
        reverse("admin:tickets_ticket_add"),
        {"subject": "By phone", "status": "new", "priority": "2", "requester": requester.pk, "channel": "web"},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="By phone")
    update_ticket(ticket, priority=Ticket.Priority.HIGH, actor=ada)
    event = ticket.events.get()
    page = client.get(reverse("admin:tickets_ticketevent_change", args=[event.pk]))
    assert page.status_code == 200 and "High" in page.content.decode()
    assert client.post(reverse("admin:tickets_ticketevent_delete", args=[event.pk])).status_code == 403


def test_merged_into_is_shown_not_edited(admin_client):
    ticket = TicketFactory()
    page = admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert "Merged into" in page and 'name="merged_into"' not in page
