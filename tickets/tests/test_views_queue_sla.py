"""The queue's SLA column and sort, and the "breaching within the hour" view; they read
only `Ticket.next_breach_at` (kept by the business rules' SLA clocks)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.models import Ticket

from .factories import TicketFactory
from .test_views_queue import queue_url, subjects
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def due_in(minutes: float | None, subject: str, **fields) -> Ticket:
    due = timezone.now() + timedelta(minutes=minutes) if minutes is not None else None
    return TicketFactory(subject=subject, next_breach_at=due, status=fields.pop("status", Ticket.Status.OPEN), **fields)


def test_next_breach_first_puts_breached_then_soonest_and_tickets_without_clocks_last(client, agent):
    due_in(300, "later")
    due_in(None, "no clock")
    due_in(-30, "breached")
    due_in(20, "soon")
    client.force_login(agent)
    assert subjects(client.get(queue_url("open", sort="breach"))) == ["breached", "soon", "later", "no clock"]


def test_breaching_within_the_hour_lists_breached_and_soon_unsolved_tickets(client, agent):
    due_in(-30, "breached")
    due_in(45, "soon")
    due_in(90, "later")
    due_in(None, "no clock")
    due_in(10, "solved", status=Ticket.Status.SOLVED)
    client.force_login(agent)
    response = client.get(queue_url("breaching"))
    # Sorted by next breach unless the agent picks another sort.
    assert subjects(response) == ["breached", "soon"]
    assert "Breaching within the hour" in response.content.decode()
    assert response.context["filter_form"]["sort"].value() == "breach"  # and the sort menu says so
    assert subjects(client.get(queue_url("breaching", sort="-updated"))) == ["soon", "breached"]


def test_rows_show_a_badge_with_the_countdown(client, agent):
    due_in(-30, "breached")
    due_in(45, "soon")
    due_in(600, "later")
    client.force_login(agent)
    body = client.get(queue_url("open")).content.decode()
    assert 'class="breach breach--breached"' in body and "Breached 30" in body
    assert 'class="breach breach--soon"' in body and "Due in 44" in body
    assert 'class="breach breach--later"' in body


def test_the_ticket_page_shows_the_badge(client, agent):
    ticket = due_in(45, "soon")
    client.force_login(agent)
    assert 'class="breach breach--soon"' in client.get(ticket.get_absolute_url()).content.decode()


def test_sorting_by_next_breach_costs_no_extra_query(client, agent, django_assert_max_num_queries):
    for minutes in (5, 50, None):
        due_in(minutes, "t")
    client.force_login(agent)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as by_update:
        client.get(queue_url("open"))
    with django_assert_max_num_queries(len(by_update.captured_queries)):
        client.get(queue_url("open", sort="breach"))
