"""Each queue row shows what its ticket holds, worked out once in Python (`tickets.queue_rows`).
(The live workspace pushes the very row the page draws: live/tests/test_queue_pages.py.)"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets.models import Tag, Ticket

from .factories import GroupFactory, TicketFactory, UserFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

QUEUE = reverse("tickets:queue_view", args=["all"])


def row_of(body: str, ticket: Ticket) -> str:
    return re.search(rf'<tr data-ticket="{ticket.pk}">.*?</tr>', body, re.S).group(0)


def test_a_row_shows_the_ticket_its_people_labels_tags_and_sla(client, agent, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ticket = TicketFactory(subject="Refund <please>", status=Ticket.Status.PENDING, priority=Ticket.Priority.URGENT,
                           channel="x", assignee=UserFactory(first_name="Ada", last_name="Agent"),
                           group=GroupFactory(name="Billing"), next_breach_at=timezone.now() - timedelta(hours=2))
    ticket.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="refund"))
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    client.force_login(agent)

    row = row_of(client.get(QUEUE).content.decode(), ticket)

    assert f'name="seen" value="{ticket.pk}:pending:{ticket.assignee_id}"' in row
    assert f'<a href="/tickets/{ticket.pk}/" title="Refund &lt;please&gt;">Refund &lt;please&gt;</a>' in row
    assert '<span class="tag">refund</span><span class="tag">vip</span>' in row
    assert '<span class="channel channel--x">X</span>' in row
    assert '<span class="status status--pending">Pending</span>' in row
    assert '<span class="priority priority--4">Urgent</span>' in row
    assert '>Ada Agent</td>' in row and '>Billing</td>' in row
    assert ">5\xa0minutes ago</time>" in row
    assert 'class="breach breach--breached"' in row and ">Breached 2\xa0hours ago</time>" in row


def test_a_row_without_assignee_group_or_sla_target_says_so(client, agent):
    ticket = TicketFactory(subject="Plain")
    client.force_login(agent)

    row = row_of(client.get(QUEUE).content.decode(), ticket)

    assert f'name="seen" value="{ticket.pk}:new:"' in row
    assert 'data-label="Assignee">—</td>' in row and 'data-label="Group">—</td>' in row
    assert '<td class="q-sla"></td>' in row


def test_a_target_due_soon_counts_down(client, agent, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ticket = TicketFactory(subject="Soon", next_breach_at=timezone.now() + timedelta(minutes=30))
    client.force_login(agent)

    row = row_of(client.get(QUEUE).content.decode(), ticket)

    assert 'class="breach breach--soon"' in row and ">Due in 30\xa0minutes</time>" in row

