"""A new ticket announces itself once, with its first message, whatever channel it came on,
so a trigger on "ticket is created" can read the text that opened it."""

import pytest

from tickets.events import ticket_changed
from tickets.mail.inbound import ingest_email
from tickets.mail.testing import build_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    received = []

    def listen(**kwargs):
        received.append(kwargs)

    ticket_changed.connect(listen, dispatch_uid="test_ticket_created_event")
    yield received
    ticket_changed.disconnect(dispatch_uid="test_ticket_created_event")


def test_email_from_a_new_sender_opens_a_ticket_with_one_created_event(events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_email(build_email(body="My invoice is wrong"))

    assert len(events) == 1
    [event] = events
    assert event["created"] is True
    assert event["ticket"] == result.ticket
    assert "invoice is wrong" in event["comment"].body
    assert result.ticket.comment_count == 1


def test_reply_email_on_an_existing_ticket_is_an_update(events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest_email(build_email(message_id="<first@example.com>"))
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ingest_email(build_email(message_id="<second@example.com>", in_reply_to="<first@example.com>"))

    assert [e["created"] for e in events] == [False]
    assert events[0]["ticket"].pk == first.ticket.pk
