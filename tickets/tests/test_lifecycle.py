from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.lifecycle import close_solved_tickets, update_ticket
from tickets.models import Ticket

from .factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_solved_tickets_close_after_the_configured_days(settings):
    settings.SOLVED_TO_CLOSED_DAYS = 4
    now = timezone.now()
    old = TicketFactory(status=Ticket.Status.SOLVED, solved_at=now - timedelta(days=4, minutes=1))
    recent = TicketFactory(status=Ticket.Status.SOLVED, solved_at=now - timedelta(days=3))
    assert close_solved_tickets(now) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == Ticket.Status.CLOSED
    assert recent.status == Ticket.Status.SOLVED


def test_solving_records_when():
    ticket = TicketFactory()
    update_ticket(ticket, status=Ticket.Status.SOLVED)
    assert ticket.solved_at is not None


def test_closed_ticket_cannot_be_reopened_by_hand():
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    with pytest.raises(ValueError):
        update_ticket(ticket, status=Ticket.Status.OPEN)


def test_update_reports_changes_and_tags():
    ticket = TicketFactory()
    changes = update_ticket(ticket, priority=Ticket.Priority.HIGH, tags=["VIP", "billing"])
    assert changes["priority"] == (Ticket.Priority.NORMAL, Ticket.Priority.HIGH)
    assert changes["tags"] == ([], ["billing", "vip"])
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
