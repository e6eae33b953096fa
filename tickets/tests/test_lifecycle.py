from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tickets.lifecycle import close_solved_tickets, update_ticket
from tickets.models import Ticket

from .factories import GroupFactory, TicketFactory

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


def test_an_update_from_an_old_copy_of_the_ticket_keeps_what_changed_meanwhile():
    from tickets.comments import add_comment

    ticket = TicketFactory(status=Ticket.Status.PENDING)
    old_copy = Ticket.objects.get(pk=ticket.pk)
    add_comment(ticket, body="any news?", author_requester=ticket.requester)  # reopens, counts 1
    Ticket.objects.filter(pk=ticket.pk).update(priority=Ticket.Priority.URGENT)

    group = GroupFactory()
    changes = update_ticket(old_copy, tags=["vip"], group=group)

    assert changes == {"group_id": (None, group.pk), "tags": ([], ["vip"])}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.comment_count) == (Ticket.Status.OPEN, Ticket.Priority.URGENT, 1)


def test_an_expected_value_that_moved_on_raises_a_conflict_and_saves_nothing():
    from tickets.lifecycle import EditConflict

    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    update_ticket(ticket, priority=Ticket.Priority.HIGH)
    with pytest.raises(EditConflict) as raised:
        update_ticket(
            ticket, priority=Ticket.Priority.LOW, status=Ticket.Status.OPEN,
            expected={"priority": Ticket.Priority.NORMAL, "status": Ticket.Status.NEW},
        )
    assert [c.field for c in raised.value.conflicts] == ["priority"]
    assert "from Normal to High" in str(raised.value)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == (Ticket.Priority.HIGH, Ticket.Status.NEW)


def test_closing_solved_tickets_is_logged_as_the_system(settings):
    from tickets.models import TicketEvent

    settings.SOLVED_TO_CLOSED_DAYS = 4
    ticket = TicketFactory(status=Ticket.Status.SOLVED, solved_at=timezone.now() - timedelta(days=30))
    close_solved_tickets()
    event = ticket.events.get()
    assert (event.actor_kind, event.field, event.old_value, event.new_value) == (
        TicketEvent.ActorKind.SYSTEM, "status", "solved", "closed"
    )
    assert event.actor_name == "Solved tickets close after 4 days"


def test_a_conflict_with_an_older_change_gives_its_date():
    from tickets.lifecycle import EditConflict

    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    update_ticket(ticket, priority=Ticket.Priority.HIGH)
    ticket.events.update(created_at=timezone.make_aware(datetime(2026, 1, 5, 9, 30)))
    with pytest.raises(EditConflict, match="from Normal to High at 2026-01-05 09:30"):
        update_ticket(ticket, priority=Ticket.Priority.LOW, expected={"priority": Ticket.Priority.NORMAL})
