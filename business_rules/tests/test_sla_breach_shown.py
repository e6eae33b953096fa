"""A target that breached stays visibly breached while its clock is paused (the ticket is
pending): in the queue, on the ticket page, in "breaching within the hour" and for the SLA
conditions of triggers and automations, all of which read `Ticket.next_breach_at`."""

from datetime import UTC, datetime, timedelta

import pytest

from business_rules.automations.run import candidates, compile_automation
from business_rules.conditions import compile_sla_condition
from business_rules.state import TicketState
from tickets.comments import add_comment, open_ticket_with_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Ticket
from tickets.tests.factories import RequesterFactory, UserFactory

from .helpers import make_automation
from .sla_helpers import make_policy

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def paused_after_breach(time_machine, django_capture_on_commit_callbacks):
    """A ticket whose requester-wait target (60 min) breached, then went pending at T0+90."""
    time_machine.move_to(T0, tick=False)
    make_policy(targets={"requester_wait": 60})
    agent = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket_with_comment(
            requester=RequesterFactory(), subject="Where is my order?", body="?", channel=Channel.X
        ).ticket
    time_machine.move_to(T0 + 90 * MINUTE, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        add_comment(ticket, body="Which order?", author_user=agent)
    ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, status=Ticket.Status.PENDING, actor=agent)
    time_machine.move_to(T0 + 120 * MINUTE, tick=False)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    return ticket, agent


def test_the_queue_row_shows_the_breach(client, paused_after_breach):
    ticket, agent = paused_after_breach
    client.force_login(agent)
    body = client.get("/views/open/").content.decode()
    assert 'class="breach breach--breached"' in body and "Breached 1\xa0hour" in body


def test_the_ticket_page_shows_the_breach(client, paused_after_breach):
    ticket, agent = paused_after_breach
    client.force_login(agent)
    body = client.get(ticket.get_absolute_url()).content.decode()
    header = body.split('<div class="pagehead">', 1)[1].split("</div>", 1)[0]  # not the SLA panel
    assert 'class="breach breach--breached"' in header


def test_breaching_view_and_next_breach_sort_put_it_first(client, paused_after_breach):
    ticket, agent = paused_after_breach
    running = open_ticket_with_comment(requester=RequesterFactory(), subject="Fresh", body="?").ticket
    Ticket.objects.filter(pk=running.pk).update(next_breach_at=T0 + 150 * MINUTE)
    client.force_login(agent)
    for url in ("/views/breaching/", "/views/open/?sort=breach"):
        rows = client.get(url).context["page"].object_list
        assert [t.pk for t in rows][:2] == [ticket.pk, running.pk], url


def test_sla_conditions_see_the_breach(paused_after_breach):
    ticket, _ = paused_after_breach
    assert compile_sla_condition("sla_breached", "is", "true")(TicketState(ticket))
    assert compile_sla_condition("sla_hours_since_breach", "greater_than", "0.5")(TicketState(ticket))
    automation = compile_automation(make_automation(all=[("sla_breached", "is", "true")], actions=[("add_tags", "hit")]))
    assert ticket.pk in {pk for pk, _ in candidates(automation, T0 + 120 * MINUTE, 10)}


def test_a_resumed_clock_counts_its_breach_from_when_it_breached(
    client, paused_after_breach, time_machine, django_capture_on_commit_callbacks
):
    ticket, agent = paused_after_breach
    time_machine.move_to(T0 + 300 * MINUTE, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        add_comment(ticket, body="Order 42", author_requester=ticket.requester)  # reopens: the clock runs
    time_machine.move_to(T0 + 310 * MINUTE, tick=False)
    client.force_login(agent)
    body = client.get(ticket.get_absolute_url()).content.decode()
    panel = body.split('aria-label="Service level"', 1)[1]
    assert "Breached 4\xa0hours, 10\xa0minutes ago" in panel, panel
    assert "Breached 10\xa0minutes" not in body
