"""A macro on one ticket: its text with the triggers' placeholders, its changes, and how they
are applied (business_rules/macros/applying.py)."""

from __future__ import annotations

import pytest

from business_rules.macros.applying import apply_macro, parse_seen, plan_macro, plans_for
from business_rules.models import Macro
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Ticket, TicketEvent, User
from tickets.tests.factories import GroupFactory, RequesterFactory, TicketFactory, UserFactory

from .macro_helpers import make_macro

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(username="dana", first_name="Dana", last_name="Scully")


@pytest.fixture
def ticket():
    t = TicketFactory(subject="Refund please", requester=RequesterFactory(name="Alice Walker"), channel=Channel.WEB,
                      status=Ticket.Status.OPEN)
    update_ticket(t, add_tags={"vip"})
    return t


def test_text_is_rendered_with_the_triggers_placeholders(ticket, agent):
    macro = make_macro("Refund", "Hi {{requester.first_name}}, ticket #{{ticket.id}} is refunded. {{current_user.first_name}}")
    plan = plan_macro(macro, ticket, agent)
    assert plan.text == f"Hi Alice, ticket #{ticket.pk} is refunded. Dana"


def test_unknown_placeholders_are_refused_when_saved():
    with pytest.raises(AssertionError, match="ticket.secret"):
        make_macro("Leak", "{{ticket.secret}}")


def test_template_syntax_stays_literal(ticket, agent):
    macro = make_macro("Odd", "{% debug %} {{ ticket.requester.identities }}")
    assert plan_macro(macro, ticket, agent).text == "{% debug %} {{ ticket.requester.identities }}"


def test_plan_lists_the_changes_from_the_tickets_current_values(ticket, agent):
    group = GroupFactory(name="Billing")
    macro = make_macro("Refund", "Done", set_status="pending", set_priority="3", set_group=str(group.pk),
                       set_assignee="current_user", add_tags="refund", remove_tags="vip")
    plan = plan_macro(macro, ticket, agent)
    assert [c.text for c in plan.changes] == [
        "Status: Open → Pending",
        "Priority: Normal → High",
        "Group: No group → Billing",
        "Assignee: Unassigned → Dana Scully",
        "Tags: +refund, −vip",
    ]
    assert plan.seen == {"status": "open", "priority": 2, "group_id": None, "assignee_id": None}
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN  # a plan changes nothing


def test_apply_changes_the_ticket_logs_it_as_the_agent_with_the_macro_and_counts_the_use(ticket, agent):
    macro = make_macro("Refund", "Done", set_status="pending", add_tags="refund", set_assignee="current_user")
    plan = plan_macro(macro, ticket, agent)

    notices = apply_macro(macro, ticket, agent, plan.seen)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING and ticket.assignee == agent
    assert set(ticket.tags.values_list("name", flat=True)) == {"vip", "refund"}
    events = TicketEvent.objects.filter(ticket=ticket, field__in=["status", "assignee", "tags"]).exclude(new_label="vip")
    assert {(e.actor_user_id, e.actor_name) for e in events} == {(agent.pk, "Dana Scully (macro “Refund”)")}
    assert [n.level for n in notices] == ["success"]
    assert "Status: Open → Pending" in notices[0].text
    macro.refresh_from_db()
    assert macro.usage_count == 1 and macro.last_used_at is not None


def test_a_field_someone_else_changed_since_the_preview_keeps_their_value(ticket, agent):
    macro = make_macro("Escalate", "", set_priority="4", set_status="pending")
    plan = plan_macro(macro, ticket, agent)
    other = UserFactory(username="walter", first_name="Walter")
    update_ticket(ticket, priority=Ticket.Priority.LOW, actor=other)

    notices = apply_macro(macro, ticket, agent, plan.seen)

    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.LOW  # Walter's
    assert ticket.status == Ticket.Status.PENDING  # untouched by Walter: applied
    warnings = [n.text for n in notices if n.level == "warning"]
    assert len(warnings) == 1 and "Walter changed it from Normal to Low" in warnings[0]


def test_the_agents_own_change_since_the_preview_does_not_stop_the_macro(ticket, agent):
    macro = make_macro("Solve", "", set_status="solved")
    plan = plan_macro(macro, ticket, agent)
    update_ticket(ticket, status=Ticket.Status.PENDING, actor=agent)

    apply_macro(macro, ticket, agent, plan.seen)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED


def test_restricted_agent_cannot_move_a_ticket_into_a_group_of_others(ticket):
    mine, theirs = GroupFactory(name="Mine"), GroupFactory(name="Theirs")
    restricted = UserFactory(username="rita", role=User.Role.RESTRICTED)
    restricted.allowed_groups.add(mine)
    macro = make_macro("To theirs", "", set_group=str(theirs.pk), set_priority="3")
    plan = plan_macro(macro, ticket, restricted)
    assert [(c.text, c.skipped) for c in plan.changes] == [
        ("Priority: Normal → High", ""),
        ("Group: No group → Theirs", "not one of your groups"),
    ]

    notices = apply_macro(macro, ticket, restricted, plan.seen)

    ticket.refresh_from_db()
    assert ticket.group is None and ticket.priority == Ticket.Priority.HIGH
    assert any("not one of your groups" in n.text for n in notices if n.level == "warning")


def test_a_deleted_group_or_deactivated_agent_is_skipped(ticket, agent):
    group = GroupFactory(name="Gone")
    leaver = UserFactory(username="leaver")
    macro = make_macro("Hand over", "", set_group=str(group.pk), set_assignee=str(leaver.pk))
    group.delete()
    leaver.is_active = False
    leaver.save()

    plan = plan_macro(macro, ticket, agent)
    assert all(c.skipped for c in plan.changes)
    apply_macro(macro, ticket, agent, plan.seen)
    ticket.refresh_from_db()
    assert ticket.group_id is None and ticket.assignee_id is None


def test_a_closed_ticket_is_not_reopened(ticket, agent):
    update_ticket(ticket, status=Ticket.Status.CLOSED)
    macro = make_macro("Reopen", "", set_status="open", add_tags="late")
    apply_macro(macro, ticket, agent, {})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert "late" in set(ticket.tags.values_list("name", flat=True))


def test_restricted_agents_use_shared_macros_and_their_own_only():
    rita, walter = UserFactory(username="rita", role=User.Role.RESTRICTED), UserFactory(username="walter")
    shared = make_macro("Shared", "a")
    own = make_macro("Rita's", "b", owner=rita)
    make_macro("Walter's", "c", owner=walter)
    make_macro("Old", "d", active=False)
    assert set(Macro.objects.usable_by(rita)) == {shared, own}


def test_plans_for_many_macros_cost_a_fixed_number_of_queries(ticket, agent, django_assert_max_num_queries):
    groups = [GroupFactory(name=f"G{i}") for i in range(3)]
    for i in range(30):
        make_macro(f"M{i}", "Hi {{requester.first_name}} {{ticket.group}}", set_group=str(groups[i % 3].pk),
                   add_tags=f"t{i}", set_status="pending")
    ticket = Ticket.objects.select_related("requester", "group", "assignee").get(pk=ticket.pk)
    # macros, actions, tags, identities; then a name and an existence check per group named
    # (3 here): it grows with the groups and agents macros name, never with the macros.
    with django_assert_max_num_queries(10):
        plans = plans_for(ticket, agent, Macro.objects.prefetch_related("actions"), fit_options={"kind": "public"})
    assert len(plans) == 30


def test_seen_values_from_the_browser_are_taken_only_when_well_formed():
    assert parse_seen('{"status": "open", "priority": 2, "group_id": null, "evil": 1, "assignee_id": [1]}') == {
        "status": "open", "priority": 2, "group_id": None}
    assert parse_seen("not json") == {} and parse_seen("[1]") == {} and parse_seen(None) == {}


def test_a_macro_needs_a_text_or_an_action():
    with pytest.raises(AssertionError, match="needs a text"):
        make_macro("Empty")


def test_titles_are_unique_per_owner():
    dana = UserFactory(username="dana2")
    make_macro("Thanks", "a")
    make_macro("Thanks", "b", owner=dana)  # a personal one may share a shared one's title
    with pytest.raises(AssertionError, match="already"):
        make_macro("Thanks", "c", owner=dana)
    with pytest.raises(AssertionError, match="already"):
        make_macro("Thanks", "d")



def test_demo_macros_load_once():
    from django.core.management import call_command

    call_command("load_demo_macros")
    call_command("load_demo_macros")
    assert Macro.objects.filter(owner__isnull=True).count() == 3
    assert Macro.objects.get(title="Order delayed").actions.count() == 3
