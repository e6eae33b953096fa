"""Every time condition automations offer, asked of stored tickets at a frozen time."""

from datetime import UTC, datetime, timedelta

import pytest

from business_rules.automations.run import candidates, compile_automation
from business_rules.conditions import AUTOMATION, TIME_COLUMNS, fields_for, operators_for
from tickets.models import Ticket
from tickets.tests.factories import TicketFactory

from .helpers import make_automation

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

# The ticket's moment is 2 hours ago (or, for "until breach", due in 30 minutes).
CASES = [
    # field, operator, hours, holds
    ("hours_since_created", "greater_than", "1", True),
    ("hours_since_created", "greater_than", "3", False),
    ("hours_since_created", "less_than", "3", True),
    ("hours_since_created", "less_than", "1.5", False),
    ("hours_since_updated", "greater_than", "1.5", True),
    ("hours_since_updated", "greater_than", "2.5", False),
    ("hours_since_updated", "less_than", "2.5", True),
    ("hours_since_updated", "less_than", "1", False),
    ("hours_since_status_changed", "greater_than", "1", True),
    ("hours_since_status_changed", "greater_than", "48", False),
    ("hours_since_status_changed", "less_than", "48", True),
    ("hours_since_status_changed", "less_than", "0.5", False),
    ("hours_since_requester_reply", "greater_than", "1", True),
    ("hours_since_requester_reply", "greater_than", "3", False),
    ("hours_since_requester_reply", "less_than", "3", True),
    ("hours_since_requester_reply", "less_than", "1", False),
    ("hours_since_assignee_reply", "greater_than", "1", True),
    ("hours_since_assignee_reply", "greater_than", "3", False),
    ("hours_since_assignee_reply", "less_than", "3", True),
    ("hours_since_assignee_reply", "less_than", "1", False),
    ("sla_hours_since_breach", "greater_than", "1", True),
    ("sla_hours_since_breach", "greater_than", "3", False),
    ("sla_hours_since_breach", "less_than", "3", True),
    ("sla_hours_since_breach", "less_than", "1", False),
    ("sla_hours_until_breach", "less_than", "1", True),
    ("sla_hours_until_breach", "less_than", "0.25", False),
    ("sla_hours_until_breach", "greater_than", "0.25", True),
    ("sla_hours_until_breach", "greater_than", "1", False),
]


def ticket_with(column: str, moment: datetime) -> Ticket:
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    # update(): auto_now would overwrite updated_at on save.
    Ticket.objects.filter(pk=ticket.pk).update(**{column: moment})
    return ticket


@pytest.mark.parametrize(("field", "operator", "hours", "holds"), CASES)
def test_time_condition(field, operator, hours, holds):
    column = TIME_COLUMNS[field]
    moment = NOW + 0.5 * HOUR if field == "sla_hours_until_breach" else NOW - 2 * HOUR
    ticket = ticket_with(column, moment)
    unset = TicketFactory(status=Ticket.Status.OPEN)  # the moment never happened: never matches
    if column != "created_at" and column != "updated_at":
        Ticket.objects.filter(pk=unset.pk).update(**{column: None})
    automation = compile_automation(make_automation(all=[(field, operator, hours)], actions=[("add_tags", "hit")]))
    matched = {pk for pk, _ in candidates(automation, NOW, 100)}
    assert (ticket.pk in matched) is holds
    if column not in ("created_at", "updated_at"):
        assert unset.pk not in matched


def test_every_time_condition_is_covered():
    offered = {(n, op) for n, f in fields_for(AUTOMATION).items() if n in TIME_COLUMNS for op in operators_for(f, AUTOMATION)}
    assert offered - {(f, o) for f, o, _, _ in CASES} == set()


@pytest.mark.parametrize(("due", "holds"), [(NOW - HOUR, True), (NOW + HOUR, False), (None, False)])
def test_sla_breached(due, holds):
    ticket = ticket_with("next_breach_at", due)
    automation = compile_automation(
        make_automation(all=[("sla_breached", "is", "true"), ("hours_since_created", "greater_than", "0")],
                        actions=[("add_tags", "hit")])
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=NOW - HOUR)
    assert (ticket.pk in {pk for pk, _ in candidates(automation, NOW, 10)}) is holds
