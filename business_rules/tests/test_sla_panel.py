"""The ticket page shows the ticket's SLA clocks (a panel business_rules registers)."""

import pytest

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.models import Channel
from tickets.tests.factories import RequesterFactory, UserFactory

from .sla_helpers import make_policy

pytestmark = pytest.mark.django_db


def test_the_ticket_page_lists_running_and_fulfilled_clocks(client, django_capture_on_commit_callbacks):
    make_policy(targets={"first_reply": 60, "resolution": 480})
    agent = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket_with_comment(
            requester=RequesterFactory(), subject="Where?", body="?", channel=Channel.X
        ).ticket
    with django_capture_on_commit_callbacks(execute=True):
        add_comment(ticket, body="Here", author_user=agent)
    client.force_login(agent)
    body = client.get(ticket.get_absolute_url()).content.decode()
    assert "Service level" in body
    assert "First reply:" in body and "done" in body
    assert "Resolution:" in body and "Due in 7" in body


def test_no_panel_without_clocks(client):
    agent = UserFactory()
    ticket = open_ticket_with_comment(requester=RequesterFactory(), subject="Where?", body="?").ticket
    client.force_login(agent)
    assert "Service level" not in client.get(ticket.get_absolute_url()).content.decode()
