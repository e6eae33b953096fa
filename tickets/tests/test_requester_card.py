"""The requester card lists the requester's other tickets, as far as the agent may see them,
at a cost in queries that does not grow with their number."""

from __future__ import annotations

import pytest

from tickets.comments import open_ticket_with_comment
from tickets.models import Channel, Ticket

from .factories import RequesterFactory, TicketFactory, XIdentityFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    requester = RequesterFactory(name="Alice Moss")
    XIdentityFactory(requester=requester, handle="alice")
    return requester


def opened(requester, subject, channel=Channel.X, **fields) -> Ticket:
    return open_ticket_with_comment(requester=requester, subject=subject, body=subject, channel=channel,
                                    **fields).ticket


def test_the_requester_card_lists_their_other_tickets(client, agent, alice):
    ticket = opened(alice, "Order 123 late")
    older = opened(alice, "Where is my parcel")
    opened(RequesterFactory(), "Someone else's")
    client.force_login(agent)

    page = client.get(ticket.get_absolute_url()).content.decode()

    assert 'aria-label="Other tickets of Alice Moss"' in page
    assert f"#{older.pk} Where is my parcel" in page and "Someone else&#x27;s" not in page


def test_a_restricted_agent_sees_only_the_other_tickets_in_their_reach(client, restricted, support_group,
                                                                       billing_group):
    requester = RequesterFactory(name="Carol")
    mine = TicketFactory(requester=requester, group=support_group, channel=Channel.EMAIL, subject="Mine")
    TicketFactory(requester=requester, group=support_group, channel=Channel.EMAIL, subject="Also in reach")
    TicketFactory(requester=requester, group=billing_group, channel=Channel.EMAIL, subject="Out of reach")
    client.force_login(restricted)

    page = client.get(mine.get_absolute_url()).content.decode()

    assert "Also in reach" in page and "Out of reach" not in page


def test_the_other_tickets_cost_the_same_queries_however_many_there_are(client, agent, alice,
                                                                        django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = opened(alice, "Order 123 late")
    opened(alice, "one other")
    client.force_login(agent)
    client.get(ticket.get_absolute_url())  # warm: session, caches
    with CaptureQueriesContext(connection) as few:
        client.get(ticket.get_absolute_url())
    for n in range(12):
        opened(alice, f"another {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(ticket.get_absolute_url()).content.decode()
    assert "and more" in page
