from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.lifecycle import update_ticket
from tickets.models import Ticket

from .factories import TicketFactory

pytestmark = pytest.mark.django_db


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


def test_a_status_change_records_when():
    ticket = TicketFactory(status=Ticket.Status.OPEN, status_changed_at=timezone.now() - timedelta(days=2))
    update_ticket(ticket, status=Ticket.Status.PENDING)
    ticket.refresh_from_db()
    assert timezone.now() - ticket.status_changed_at < timedelta(seconds=5)


def test_other_changes_leave_the_status_change_time_alone():
    then = timezone.now() - timedelta(days=2)
    ticket = TicketFactory(status=Ticket.Status.OPEN, status_changed_at=then)
    update_ticket(ticket, priority=Ticket.Priority.HIGH)
    ticket.refresh_from_db()
    assert ticket.status_changed_at == then


def test_a_new_assignee_has_not_replied_yet():
    from .factories import UserFactory

    ticket = TicketFactory(assignee=UserFactory(), assignee_replied_at=timezone.now())
    update_ticket(ticket, assignee_id=UserFactory().pk)
    ticket.refresh_from_db()
    assert ticket.assignee_replied_at is None
