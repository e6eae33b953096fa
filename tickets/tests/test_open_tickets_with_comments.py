"""Opening many tickets at once (intake at volume): two INSERTs for all of them, one
announcement after commit (its listeners: dashboard/tests/test_tickets_opened.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tickets.comments import Opening, open_tickets_with_comments
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


def test_search_finds_tickets_and_messages_opened_at_once():
    from tickets import search

    opened = open_tickets_with_comments([
        Opening(requester=RequesterFactory(), subject="Refunds are late", body="Hello?", channel=Channel.X,
                external_source=Comment.Source.TWEET, external_id="801"),
        Opening(requester=RequesterFactory(), subject="Hello", body="I asked for a refund twice", channel=Channel.X,
                external_source=Comment.Source.TWEET, external_id="802"),
        Opening(requester=RequesterFactory(), subject="Unrelated", body="Nothing here", channel=Channel.X,
                external_source=Comment.Source.TWEET, external_id="803"),
    ])

    assert set(search.find(Ticket.objects.all(), "refund", limit=10)) == {opened[0].ticket_id, opened[1].ticket_id}
