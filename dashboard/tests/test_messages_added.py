"""Every listener of `messages_added` does for many requesters' messages added at once what it
does for one added by `add_comment`: SLA clocks, triggers, live events, dashboard rollups."""

from __future__ import annotations

import pytest
from django.db import transaction

from business_rules.sla.models import TicketClocks
from business_rules.tests.helpers import make_trigger
from business_rules.tests.sla_helpers import make_policy
from dashboard.models import Rollup
from live.models import LiveEvent
from tickets.comments import Message, add_comment, add_messages
from tickets.models import Channel, Comment, Ticket
from tickets.tests.factories import TicketFactory

# Committed for real: a trigger's own cascade stands aside (`is_running_for`) until its commit,
# which a test's enclosing transaction would put off past the ticket's next message.
pytestmark = pytest.mark.django_db(transaction=True)


def message(ticket: Ticket, text: str, n: int) -> Message:
    return Message(ticket_id=ticket.pk, requester=ticket.requester, body=text, channel=Channel.X,
                   external_source=Comment.Source.TWEET, external_id=f"80{n}")


def tags(ticket: Ticket) -> list[str]:
    return sorted(ticket.tags.values_list("name", flat=True))


def test_listeners_do_for_many_messages_what_they_do_for_one():
    make_trigger("urgent", all=[("update_type", "is", "updated"), ("comment_text", "contains", "urgent")],
                 actions=[("add_tags", "urgent"), ("set_priority", "4")])
    # Sees what the trigger made of the ticket's message before.
    make_trigger("again", all=[("tags", "contains_all", "urgent"), ("comment_text", "contains", "again")],
                 actions=[("add_tags", "escalated")], position=1)
    # Clocks only once a trigger made the ticket urgent: refreshed after the triggers too.
    make_policy(targets={"first_reply": 60}, priority=Ticket.Priority.URGENT)
    one, calm, urgent, twice = TicketFactory.create_batch(4, channel=Channel.X)
    alone = add_comment(one, body="urgent please", author_requester=one.requester, channel=Channel.X,
                        external_source=Comment.Source.TWEET, external_id="700", known_new=True)
    with transaction.atomic():
        many = add_messages([message(calm, "hello", 1), message(urgent, "urgent please", 2),
                             message(twice, "urgent please", 3), message(twice, "again!", 4)])

    for ticket in (one, calm, urgent, twice):
        ticket.refresh_from_db()
    assert [tags(t) for t in (one, calm, urgent, twice)] == [["urgent"], [], ["urgent"], ["escalated", "urgent"]]
    assert [t.priority for t in (one, calm, urgent, twice)] == [Ticket.Priority.URGENT, Ticket.Priority.NORMAL,
                                                                 Ticket.Priority.URGENT, Ticket.Priority.URGENT]
    assert sorted(TicketClocks.objects.values_list("ticket_id", flat=True)) == sorted([one.pk, urgent.pk, twice.pk])
    assert urgent.next_breach_at is not None and calm.next_breach_at is None
    # One live event per message, the same whichever way the message was added.
    events = {e.data["comment"]: e.data for e in LiveEvent.objects.all()}
    assert events[many[1].pk] == {**events[alone.pk], "comment": many[1].pk, "by": urgent.requester.name}
    assert set(events) == {alone.pk, *(c.pk for c in many)}
    # A requester's message counts in no cell of the dashboard, whichever way it was added
    # (a rebuild would count the tickets' opening, which the factory made without a word).
    assert not Rollup.objects.exists()
