"""Opening many tickets at once (intake at volume): two INSERTs for all of them, one
announcement after commit, and every listener doing for them what it does for one ticket
opened by `open_ticket_with_comment`: live events, dashboard rollups, SLA clocks, triggers."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from business_rules.sla.models import TicketClocks
from business_rules.tests.helpers import make_trigger
from business_rules.tests.sla_helpers import make_policy
from dashboard.models import Rollup
from dashboard.rollups import rebuild
from live.models import LiveEvent
from tickets.comments import Opening, open_ticket_with_comment, open_tickets_with_comments
from tickets.events import tickets_opened
from tickets.models import Channel, Comment, Ticket
from tickets.tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db


def openings(n: int, **extra) -> list[Opening]:
    return [Opening(requester=RequesterFactory(), subject=f"Help {i}", body=f"Help me {i}", channel=Channel.X,
                    external_source=Comment.Source.TWEET, external_id=f"90{i}", **extra) for i in range(n)]


def test_it_opens_each_ticket_with_its_first_comment(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        comments = open_tickets_with_comments(openings(3))
    assert [c.external_id for c in comments] == ["900", "901", "902"]
    for comment in comments:
        ticket = Ticket.objects.get(pk=comment.ticket_id)
        assert ticket.comment_count == 1 and ticket.status == Ticket.Status.NEW
        assert ticket.requester_id == comment.author_requester_id and ticket.requester_replied_at is not None
        assert ticket.subject == comment.body.replace("me ", "")


def test_it_costs_two_inserts_whatever_the_number(django_assert_num_queries):
    few, many = openings(1), [Opening(requester=o.requester, subject="x", body="y", channel=Channel.X,
                                      external_source="tweet", external_id=f"7{i}") for i, o in enumerate(openings(40))]
    with django_assert_num_queries(2):
        open_tickets_with_comments(few)
    with django_assert_num_queries(2):
        open_tickets_with_comments(many)


def test_it_announces_all_of_them_once_after_commit(django_capture_on_commit_callbacks):
    received = []
    tickets_opened.connect(lambda **kw: received.append(kw["opened"]), weak=False, dispatch_uid="test_opened_once")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            comments = open_tickets_with_comments(openings(3))
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        tickets_opened.disconnect(dispatch_uid="test_opened_once")
    assert len(received) == 1
    assert [o.comment for o in received[0]] == comments
    assert [o.by.kind for o in received[0]] == ["x_intake"] * 3


def test_a_stored_external_id_keeps_nothing():
    open_tickets_with_comments(openings(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        open_tickets_with_comments(openings(2))
    assert Ticket.objects.count() == 1


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
