"""Evaluation cost does not grow with the number of triggers: no query per trigger."""

import pytest

from business_rules.engine import evaluate, state_for_event
from business_rules.models import RulesVersion, Trigger, TriggerAction, TriggerCondition
from tickets.models import Comment, Identity
from tickets.tests.factories import RequesterFactory, TicketFactory

pytestmark = pytest.mark.django_db

# Conditions over every kind of data: ticket fields, tags, requester identities, the comment.
CONDITIONS = [
    ("channel", "is", "email"),
    ("tags", "contains_any", "vip"),
    ("requester_followers", "at_least", "1000"),
    ("comment_text", "contains", "refund"),
    ("status", "changed_to", "solved"),
]


def create_triggers(count: int) -> None:
    triggers = Trigger.objects.bulk_create(Trigger(title=f"T{i}", position=i) for i in range(count))
    TriggerCondition.objects.bulk_create(
        TriggerCondition(trigger=t, field=f, operator=o, value=v)
        for i, t in enumerate(triggers)
        for f, o, v in [CONDITIONS[i % len(CONDITIONS)]]
    )
    TriggerAction.objects.bulk_create(TriggerAction(trigger=t, action="add_tags", value="x") for t in triggers)
    RulesVersion.bump("triggers")  # bulk_create sends no signals


@pytest.fixture
def update():
    requester = RequesterFactory()
    Identity.objects.create(requester=requester, kind="x", value="7", handle="a", followers=10)
    ticket = TicketFactory(requester=requester)
    comment = Comment.objects.create(ticket=ticket, body="hello", author_requester=requester)
    return {"ticket": ticket, "created": False, "changes": {}, "comment": comment, "actor": None}


@pytest.mark.parametrize("count", [10, 200])
def test_evaluating_triggers_costs_three_queries_whatever_their_number(update, count, django_assert_num_queries):
    create_triggers(count)
    state, triggers = state_for_event(**update)  # the first look compiles the triggers
    assert len(triggers) >= count
    # The fresh ticket with the rules version, its tags, its requester's identities.
    with django_assert_num_queries(3):
        state, triggers = state_for_event(**update)
        evaluate(state, triggers)


def test_a_saved_change_is_seen_by_the_next_evaluation(update):
    create_triggers(3)
    _, before = state_for_event(**update)
    trigger = Trigger.objects.create(title="new one", position=99)
    trigger.conditions.create(field="channel", operator="is", value="web")
    _, after = state_for_event(**update)
    assert len(after) == len(before) + 1
    trigger.delete()
    _, again = state_for_event(**update)
    assert len(again) == len(before)


def test_a_change_from_another_process_is_seen_through_the_stored_version(update):
    create_triggers(2)
    _, before = state_for_event(**update)
    # Another process deactivated a trigger: our cache was not told, only the version moved.
    Trigger.objects.filter(pk=Trigger.objects.filter(title="T0").get().pk).update(active=False)
    _, unchanged = state_for_event(**update)
    assert len(unchanged) == len(before)
    RulesVersion.bump("triggers")
    _, after = state_for_event(**update)
    assert len(after) == len(before) - 1
