"""Automations and SLA policies ask conditions of stored tickets in SQL; for every field and
operator they offer, the answer is the trigger engine's answer on the same ticket."""

import pytest
from django.utils import timezone

from business_rules.conditions import AUTOMATION, SLA, clean_condition, compile_condition, fields_for, operators_for
from business_rules.state import TicketState
from business_rules.ticket_filters import condition_q
from tickets.models import Ticket
from tickets.tests.factories import TicketFactory

from .test_conditions import CASES, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

STATE_CASES = [case for case in CASES if case[0] in fields_for(SLA) and case[1] in operators_for(fields_for(SLA)[case[0]], SLA)]


@pytest.mark.parametrize(("field", "operator", "value", "holds"), STATE_CASES)
def test_sql_agrees_with_the_trigger_engine(world, field, operator, value, holds):  # noqa: F811
    state, ids = world
    value = clean_condition(field, operator, ids.get(value, value), AUTOMATION)
    # A second ticket with none of the world's facts (no tags, identities, group…).
    bystander = TicketFactory()
    matched = set(Ticket.objects.filter(condition_q(field, operator, value, timezone.now())).values_list("pk", flat=True))
    check = compile_condition(field, operator, value)
    assert (state.ticket.pk in matched) is holds
    assert (bystander.pk in matched) is check(TicketState(bystander))


def test_every_state_field_and_operator_is_covered():
    state_fields = fields_for(SLA)
    offered = {(name, op) for name, f in state_fields.items() for op in operators_for(f, SLA)}
    assert offered - {(f, o) for f, o, _, _ in STATE_CASES} == set()
