"""A merge is pushed to agents' screens: both tickets change (one closes, one gains messages)."""

import pytest

from live.models import LiveEvent
from tickets.comments import open_ticket_with_comment
from tickets.merging import merge_tickets
from tickets.models import Channel
from tickets.tests.factories import RequesterFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_both_merged_tickets_are_published(django_capture_on_commit_callbacks):
    requester = RequesterFactory()
    source, target = (open_ticket_with_comment(requester=requester, subject=s, body=s, channel=Channel.X,
                                               notify=False).ticket for s in ("a", "b"))
    maria = UserFactory(first_name="Maria", last_name="")

    with django_capture_on_commit_callbacks(execute=True):
        merge_tickets(source, target, by=maria)

    events = {e.ticket_id: e.data for e in LiveEvent.objects.filter(kind=LiveEvent.Kind.TICKET)}
    assert events[source.pk]["fields"] == ["status"] and events[source.pk]["by"] == "Maria"
    assert events[target.pk]["comment"] == target.comments.order_by("-pk").first().pk
