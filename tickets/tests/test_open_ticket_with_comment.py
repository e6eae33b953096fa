"""Opening a ticket together with the requester's first message."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.events import ticket_changed
from tickets.models import Channel, Comment, Ticket
from tickets.tests.factories import RequesterFactory


@pytest.fixture
def events():
    received = []
    ticket_changed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="test_open_with_comment")
    yield received
    ticket_changed.disconnect(dispatch_uid="test_open_with_comment")


@pytest.mark.django_db
def test_ticket_opens_holding_its_first_comment(django_capture_on_commit_callbacks, events):
    requester = RequesterFactory()
    with django_capture_on_commit_callbacks(execute=True):
        comment = open_ticket_with_comment(
            requester=requester, subject="  Order   late ", body="Where is my order?", channel=Channel.X_LIKE,
            comment_channel=Channel.X, external_source=Comment.Source.TWEET, external_id="42",
        )

    ticket = Ticket.objects.get()
    assert comment.ticket == ticket
    assert (ticket.subject, ticket.channel, ticket.status, ticket.comment_count) == (
        "Order late", Channel.X_LIKE, Ticket.Status.NEW, 1)
    assert (comment.author_requester, comment.is_public, comment.channel) == (requester, True, Channel.X)
    assert len(events) == 1
    assert events[0]["created"] is True and events[0]["comment"] == comment and events[0]["changes"] == {}


@pytest.mark.django_db
def test_message_already_stored_keeps_nothing(events):
    first = open_ticket_with_comment(
        requester=RequesterFactory(), subject="Hi", body="hi", external_source=Comment.Source.TWEET, external_id="7"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        open_ticket_with_comment(
            requester=RequesterFactory(), subject="Hi", body="hi", external_source=Comment.Source.TWEET, external_id="7"
        )

    assert list(Ticket.objects.all()) == [first.ticket]
    # add_comment, which looks first, returns the stored message instead.
    assert add_comment(first.ticket, body="hi", author_requester=first.author_requester,
                       external_source=Comment.Source.TWEET, external_id="7") == first
