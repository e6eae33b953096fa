"""The backlog chart reads beat's count of the unsolved tickets (counting them per request
took 400-600 ms at a million tickets), per group, and says when it was counted; before the
first count it counts the tickets itself."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.backlog import backlog, take_snapshot
from dashboard.data import dashboard_data
from dashboard.tasks import snapshot_backlog
from tickets.models import Ticket, User
from tickets.tests.factories import AdminFactory, GroupFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_chart_shows_the_last_count(time_machine):
    support = GroupFactory(name="Support")
    TicketFactory(status=Ticket.Status.OPEN, group=support)
    TicketFactory(status=Ticket.Status.NEW)
    TicketFactory(status=Ticket.Status.SOLVED)
    time_machine.move_to("2026-11-30 10:15:00Z")
    assert take_snapshot() == 2
    TicketFactory(status=Ticket.Status.OPEN)  # after the count

    chart = dashboard_data(AdminFactory(), "today")["backlog"]

    assert chart["labels"] == ["New", "Open", "Pending", "On-hold"] and chart["data"] == [1, 1, 0, 0]
    assert chart["as_of"] == "2026-11-30T10:15:00+00:00"
    assert snapshot_backlog() == 3  # beat's next count
    assert dashboard_data(AdminFactory(), "today")["backlog"]["data"] == [1, 2, 0, 0]


def test_agents_see_their_groups_and_tickets_in_no_group():
    support, billing = GroupFactory(name="Support"), GroupFactory(name="Billing")
    agent = UserFactory(role=User.Role.AGENT)
    agent.groups_member_of.add(support)
    for group in (support, billing, billing, None):
        TicketFactory(status=Ticket.Status.OPEN, group=group)
    take_snapshot()

    assert dashboard_data(agent, "today")["backlog"]["data"] == [0, 2, 0, 0]
    assert backlog([billing.pk])["data"] == [0, 2, 0, 0]


def test_with_a_count_no_ticket_is_read():
    TicketFactory(status=Ticket.Status.OPEN)
    take_snapshot()
    with CaptureQueriesContext(connection) as queries:
        dashboard_data(AdminFactory(), "30d")
    assert not [q for q in queries.captured_queries if "tickets_ticket" in q["sql"]]


def test_an_empty_count_is_a_count_not_a_reason_to_count_again():
    take_snapshot()  # no unsolved ticket at all
    TicketFactory(status=Ticket.Status.OPEN)
    assert backlog(None)["data"] == [0, 0, 0, 0]


def test_before_the_first_count_the_tickets_are_counted():
    TicketFactory(status=Ticket.Status.PENDING)
    assert backlog(None)["data"] == [0, 0, 1, 0]


def test_beat_counts_it_every_dashboard_backlog_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-backlog"]
    assert entry["task"] == "dashboard.tasks.snapshot_backlog"
    assert entry["schedule"] == settings.DASHBOARD_BACKLOG_SECONDS
