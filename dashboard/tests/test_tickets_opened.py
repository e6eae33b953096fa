"""Every listener of `tickets_opened` does for many tickets opened at once what it does for one
ticket opened by `open_ticket_with_comment`: SLA clocks, triggers, live events, dashboard rollups."""

from __future__ import annotations

import pytest

from business_rules.sla.models import TicketClocks
from business_rules.tests.helpers import make_trigger
from business_rules.tests.sla_helpers import make_policy
from dashboard.models import Rollup
from dashboard.rollups import rebuild
from live.models import LiveEvent
from tickets.comments import Opening, open_ticket_with_comment, open_tickets_with_comments
from tickets.models import Channel, Comment, Ticket
from tickets.tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db


def openings(n: int) -> list[Opening]:
    return [Opening(requester=RequesterFactory(), subject=f"Help {i}", body=f"Help me {i}", channel=Channel.X,
                    external_source=Comment.Source.TWEET, external_id=f"90{i}") for i in range(n)]


def test_listeners_do_for_many_what_they_do_for_one(django_capture_on_commit_callbacks):
    make_trigger("new", all=[("update_type", "is", "created")], actions=[("add_tags", "fresh")])
    make_policy(targets={"first_reply": 60})
    with django_capture_on_commit_callbacks(execute=True):
        one = open_ticket_with_comment(requester=RequesterFactory(), subject="Help", body="Help me",
                                       channel=Channel.X, external_source="tweet", external_id="1")
    with django_capture_on_commit_callbacks(execute=True):
        many = open_tickets_with_comments(openings(3))
    tickets = [Ticket.objects.get(pk=c.ticket_id) for c in [one, *many]]
    # Triggers fired on each new ticket, and the SLA clocks run on each.
    assert [sorted(t.tags.values_list("name", flat=True)) for t in tickets] == [["fresh"]] * 4
    assert all(t.next_breach_at is not None for t in tickets)
    assert TicketClocks.objects.count() == 4
    # One live event each, the same whichever way the ticket was opened.
    events = {e.ticket_id: e.data for e in LiveEvent.objects.all()}
    assert events[tickets[1].pk] == {**events[tickets[0].pk], "comment": many[0].pk,
                                     "by": many[0].author_requester.name}
    # The dashboard counted each, as a rebuild from the tickets does.
    incremental = sorted(Rollup.objects.values_list("metric", "start", "group_id", "dim", "bucket", "count"))
    assert ("created", incremental[0][1], 0, "x", -1, 4) in incremental
    rebuild()
    assert sorted(Rollup.objects.values_list("metric", "start", "group_id", "dim", "bucket", "count")) == incremental


def test_with_no_trigger_active_no_listener_reads_the_tickets_again(django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_trigger("inactive", all=[("update_type", "is", "created")], actions=[("add_tags", "fresh")], active=False)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        open_tickets_with_comments(openings(3))
    assert not [q["sql"] for q in queries if q["sql"].startswith('SELECT "tickets_ticket"."id"')]
    assert LiveEvent.objects.count() == 3
