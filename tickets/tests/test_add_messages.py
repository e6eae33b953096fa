"""Adding many requesters' messages at once (intake at volume): what `add_comment` does for
each, set-based for tickets that take a message as it is, one announcement after commit (its
listeners: dashboard/tests/test_messages_added.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tickets.comments import Message, add_comment, add_messages
from tickets.events import messages_added, ticket_changed
from tickets.models import Channel, Comment, Ticket
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def message(ticket: Ticket, n: int, **extra) -> Message:
    return Message(ticket_id=ticket.pk, requester=ticket.requester, body=f"Any news? {n}", channel=Channel.X,
                   external_source=Comment.Source.TWEET, external_id=f"80{n}", **extra)


def test_each_message_lands_on_its_ticket_as_add_comment_would_put_it():
    one = TicketFactory(channel=Channel.X)
    twice = TicketFactory(channel=Channel.X, status=Ticket.Status.OPEN)
    alone = TicketFactory(channel=Channel.X)
    add_comment(alone, body="Any news?", author_requester=alone.requester, channel=Channel.X,
                external_source=Comment.Source.TWEET, external_id="700", known_new=True)

    comments = add_messages([message(one, 1), message(twice, 2), message(twice, 3)])

    assert [(c.ticket_id, c.body, c.external_id) for c in comments] == [
        (one.pk, "Any news? 1", "801"), (twice.pk, "Any news? 2", "802"), (twice.pk, "Any news? 3", "803")]
    expected, = Comment.objects.filter(external_id="700").values("is_public", "channel", "author_user",
                                                                  "delivery", "external_source")
    for comment in Comment.objects.filter(pk__in=[c.pk for c in comments]).values(*expected):
        assert comment == expected
    alone.refresh_from_db()
    for ticket, count, status in ((one, 1, Ticket.Status.NEW), (twice, 2, Ticket.Status.OPEN)):
        ticket.refresh_from_db()
        assert (ticket.comment_count, ticket.status) == (count, status)
        assert ticket.requester_replied_at is not None and ticket.updated_at >= alone.updated_at
    assert list(Comment.objects.filter(ticket=twice).order_by("pk").values_list("external_id", flat=True)) == \
        ["802", "803"]


def test_it_costs_the_same_queries_for_one_message_and_for_forty(django_assert_num_queries):
    # The lock, the INSERT, the UPDATE of the tickets (one per number of messages a ticket
    # gets: here one each).
    one, forty = [message(TicketFactory(), 0)], [message(t, n) for n, t in enumerate(TicketFactory.create_batch(40), 1)]
    with django_assert_num_queries(3):
        add_messages(one)
    with django_assert_num_queries(3):
        add_messages(forty)


@pytest.mark.parametrize("status", [Ticket.Status.PENDING, Ticket.Status.SOLVED])
def test_a_message_reopens_its_ticket_and_the_next_one_joins_it_as_it_is(status):
    ticket = TicketFactory(status=status)
    add_messages([message(ticket, 1), message(ticket, 2)])
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.comment_count == 2
    assert ticket.events.get().new_value == Ticket.Status.OPEN


def test_closed_full_and_merged_tickets_pass_the_message_on_as_add_comment_does(settings):
    settings.TICKET_COMMENT_LIMIT = 2
    closed = TicketFactory(status=Ticket.Status.CLOSED)
    full = TicketFactory(status=Ticket.Status.OPEN, comment_count=2)
    destination = TicketFactory(status=Ticket.Status.OPEN)
    merged = TicketFactory(requester=destination.requester, merged_into=destination)
    plain = TicketFactory()

    comments = add_messages([message(closed, 1), message(full, 2), message(merged, 3), message(plain, 4),
                             message(closed, 5)])

    follow_up, carried_on = Ticket.objects.get(follow_up_of=closed), Ticket.objects.get(follow_up_of=full)
    assert [c.ticket_id for c in comments] == [follow_up.pk, carried_on.pk, destination.pk, plain.pk, follow_up.pk]
    follow_up.refresh_from_db()
    assert follow_up.comment_count == 2 and destination.comments.get().external_id == "803"


def test_messages_taken_as_they_are_are_announced_once_after_commit(django_capture_on_commit_callbacks):
    solved, new = TicketFactory(status=Ticket.Status.SOLVED), TicketFactory()
    announced, changed = [], []
    messages_added.connect(lambda **kw: announced.append(kw["added"]), weak=False, dispatch_uid="test_added")
    ticket_changed.connect(lambda **kw: changed.append(kw), weak=False, dispatch_uid="test_added_changed")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            comments = add_messages([message(new, 1), message(solved, 2), message(new, 3)])
        assert announced == [] and changed == []
        for callback in callbacks:
            callback()
    finally:
        messages_added.disconnect(dispatch_uid="test_added")
        ticket_changed.disconnect(dispatch_uid="test_added_changed")
    # The reopening went through add_comment, with its change; the others together.
    assert [(c["ticket"].pk, c["changes"]["status"][1], c["comment"]) for c in changed] == \
        [(solved.pk, Ticket.Status.OPEN, comments[1])]
    assert [[(a.ticket.pk, a.comment, a.by.kind) for a in added] for added in announced] == [
        [(new.pk, comments[0], "x_intake")], [(new.pk, comments[2], "x_intake")]]
    assert announced[1][0].ticket.comment_count == 2


def test_a_stored_external_id_keeps_nothing():
    ticket = TicketFactory()
    add_messages([message(ticket, 1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        add_messages([message(ticket, 2), message(ticket, 1)])
    ticket.refresh_from_db()
    assert ticket.comment_count == 1 and ticket.comments.count() == 1
