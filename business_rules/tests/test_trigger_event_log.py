"""Triggers write the ticket's event log like everyone else, and never undo what an agent
saved while they ran."""

import pytest

from business_rules.engine import carry_out, evaluate, state_for_event
from business_rules.models import TriggerFiring
from tickets.lifecycle import update_ticket
from tickets.models import Ticket, TicketEvent
from tickets.tests.factories import TicketFactory, UserFactory

from .helpers import make_trigger

pytestmark = pytest.mark.django_db

ON_UPDATE = [("update_type", "is", "updated")]
Kind = TicketEvent.ActorKind


def test_each_change_is_credited_to_the_trigger_that_made_it(django_capture_on_commit_callbacks):
    agent = UserFactory(first_name="Maria")
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    make_trigger("Escalate", all=ON_UPDATE, actions=[("set_priority", "4")], position=1)
    make_trigger("Tag urgent ones", all=[("priority", "is", "4")], actions=[("add_tags", "escalated")], position=2)

    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, status=Ticket.Status.PENDING, actor=agent)

    log = [(e.actor_kind, e.actor_name, e.actor_user, e.field, e.old_label, e.new_label) for e in ticket.events.all()]
    assert log == [
        (Kind.AGENT, "Maria", agent, "status", "Open", "Pending"),
        (Kind.TRIGGER, "Escalate", None, "priority", "Normal", "Urgent"),
        (Kind.TRIGGER, "Tag urgent ones", None, "tags", "(none)", "escalated"),
    ]


def test_a_trigger_does_not_undo_what_an_agent_saved_while_it_ran():
    maria = UserFactory(first_name="Maria")
    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    trigger = make_trigger("Raise priority", all=ON_UPDATE, actions=[("set_priority", "3"), ("add_tags", "seen")])
    state, triggers = state_for_event(ticket, created=False, changes={}, comment=None, actor=None)
    plan = evaluate(state, triggers)  # decided on the ticket as read: priority Normal

    update_ticket(ticket, priority=Ticket.Priority.LOW, add_tags=["vip"], actor=maria)  # meanwhile
    carry_out(plan)

    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.LOW
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["seen", "vip"]
    problems = TriggerFiring.objects.get(trigger=trigger).problems
    assert "Priority: Maria changed it from Normal to Low" in problems
