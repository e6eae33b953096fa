"""Automations: time-based rules run by beat over the tickets they match, once per ticket per
condition state, never on a closed ticket."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from business_rules.automations.run import candidates, compiled_automations, run_automations
from business_rules.models import Automation, AutomationFiring
from tickets.comments import add_comment, open_ticket_with_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Identity, Ticket
from tickets.tests.factories import GroupFactory, RequesterFactory, TicketFactory, UserFactory

from .helpers import make_automation, make_trigger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def at(time_machine, django_capture_on_commit_callbacks):
    """at(hours after T0): move the frozen clock there."""

    def move(hours: float) -> datetime:
        time_machine.move_to(T0 + hours * HOUR, tick=False)
        return T0 + hours * HOUR

    move(0)
    return move


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


def requester_with_email():
    requester = RequesterFactory()
    Identity.objects.create(
        requester=requester, kind="email", value=f"r{requester.pk}@example.com", confirmed_at=T0, is_primary=True
    )
    return requester


def reminder():
    return make_automation(
        "Remind pending",
        all=[("status", "is", "pending"), ("hours_since_status_changed", "greater_than", "48")],
        actions=[("email_requester", "", "Still need help?", "Ticket {{ticket.id}} waits for you")],
    )


def test_pending_48_hours_reminds_the_requester_once(at, committed):
    reminder()
    ticket = TicketFactory(requester=requester_with_email(), status=Ticket.Status.OPEN)
    committed(update_ticket, ticket, status=Ticket.Status.PENDING)
    at(47)
    committed(run_automations)
    assert mail.outbox == []
    at(49)
    committed(run_automations)
    at(60)
    committed(run_automations)  # still pending, same state: no second reminder
    assert [m.subject for m in mail.outbox] == ["Still need help?"]


def test_a_new_condition_state_fires_again(at, committed):
    reminder()
    ticket = TicketFactory(requester=requester_with_email(), status=Ticket.Status.OPEN)
    committed(update_ticket, ticket, status=Ticket.Status.PENDING)
    at(49)
    committed(run_automations)
    committed(add_comment, ticket, body="still broken", author_requester=ticket.requester)  # reopens
    ticket.refresh_from_db()
    committed(update_ticket, ticket, status=Ticket.Status.PENDING)  # pending again: a new state
    at(98)
    committed(run_automations)
    assert len(mail.outbox) == 2
    assert AutomationFiring.objects.filter(ticket=ticket).count() == 2


def test_the_shipped_automation_closes_tickets_solved_96_hours_ago(at, committed):
    assert Automation.objects.filter(title="Close solved tickets after 4 days", active=True).exists()
    old, recent = TicketFactory(status=Ticket.Status.OPEN), TicketFactory(status=Ticket.Status.OPEN)
    committed(update_ticket, old, status=Ticket.Status.SOLVED)
    at(2)
    committed(update_ticket, recent, status=Ticket.Status.SOLVED)
    at(97)
    committed(run_automations)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == Ticket.Status.CLOSED
    assert recent.status == Ticket.Status.SOLVED


def test_closed_tickets_are_never_touched_or_reopened(at, committed):
    Automation.objects.all().delete()
    make_automation(
        "Reopen stale",
        all=[("status", "is_not", "open"), ("hours_since_updated", "greater_than", "1")],
        actions=[("set_status", "open"), ("add_tags", "touched")],
    )
    closed = TicketFactory(status=Ticket.Status.CLOSED)
    solved = TicketFactory(status=Ticket.Status.SOLVED)
    at(24 * 300)  # long after the factories' real "now"
    committed(run_automations)
    closed.refresh_from_db()
    solved.refresh_from_db()
    assert closed.status == Ticket.Status.CLOSED
    assert not closed.tags.exists()
    assert solved.status == Ticket.Status.OPEN


def test_new_x_ticket_unanswered_30_minutes_raises_priority_and_notifies_the_group(at, committed):
    group = GroupFactory(name="Social")
    group.members.add(UserFactory(email="social@example.com"))
    make_automation(
        "Unanswered X",
        all=[("status", "is", "new"), ("channel", "is", "x"), ("hours_since_created", "greater_than", "0.5")],
        actions=[("set_priority", "3"), ("email_group", "", "Unanswered on X", "#{{ticket.id}}")],
    )
    comment = committed(
        open_ticket_with_comment,
        requester=RequesterFactory(),
        subject="help",
        body="@brand help",
        channel=Channel.X,
        group=group,
    )
    answered = committed(
        open_ticket_with_comment, requester=RequesterFactory(), subject="hi", body="@brand hi", channel=Channel.X
    ).ticket
    committed(add_comment, answered, body="Hello!", author_user=UserFactory())  # no longer new
    at(0.4)
    committed(run_automations)
    assert Ticket.objects.get(pk=comment.ticket_id).priority == Ticket.Priority.NORMAL
    at(0.6)
    committed(run_automations)
    assert Ticket.objects.get(pk=comment.ticket_id).priority == Ticket.Priority.HIGH
    assert Ticket.objects.get(pk=answered.pk).priority == Ticket.Priority.NORMAL
    assert [m.to for m in mail.outbox] == [["social@example.com"]]


def test_triggers_run_on_an_automations_update(at, committed):
    make_automation(
        "Escalate",
        all=[("status", "is", "open"), ("hours_since_requester_reply", "greater_than", "2")],
        actions=[("set_priority", "4")],
    )
    make_trigger("Tag urgent", all=[("priority", "changed_to", "4")], actions=[("add_tags", "escalated")])
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    committed(add_comment, ticket, body="hello?", author_requester=ticket.requester)
    at(3)
    committed(run_automations)
    assert set(ticket.tags.values_list("name", flat=True)) == {"escalated"}


def test_a_pass_acts_on_at_most_the_batch_and_the_next_pass_takes_the_rest(at, committed):
    Automation.objects.all().delete()
    make_automation(
        "Tag old", all=[("hours_since_created", "greater_than", "1")], actions=[("add_tags", "old")]
    )
    tickets = [TicketFactory(status=Ticket.Status.OPEN) for _ in range(3)]
    at(24 * 300)
    assert committed(run_automations, limit=2).total == 2
    assert committed(run_automations, limit=2).total == 1
    assert committed(run_automations, limit=2).total == 0
    assert all(t.tags.filter(name="old").exists() for t in tickets)


def test_finding_the_tickets_is_one_query_however_many_tickets(at, django_assert_num_queries):
    make_automation("Tag old", all=[("hours_since_created", "greater_than", "1")], actions=[("add_tags", "old")])
    for _ in range(20):
        TicketFactory(status=Ticket.Status.OPEN)
    automation = next(a for a in compiled_automations.get() if a.title == "Tag old")
    with django_assert_num_queries(1):
        assert len(candidates(automation, T0 + 24 * 300 * HOUR, 1000)) == 20


def test_inactive_automations_do_not_run(at, committed):
    make_automation("Off", all=[("hours_since_created", "greater_than", "1")], actions=[("add_tags", "x")], active=False)
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    at(24 * 300)
    committed(run_automations)
    assert not ticket.tags.exists()


def test_the_management_command_runs_one_pass(at, capsys):
    Automation.objects.all().delete()
    make_automation("Tag old", all=[("hours_since_created", "greater_than", "1")], actions=[("add_tags", "old")])
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    at(24 * 300)
    call_command("run_automations")
    assert "1  Tag old" in capsys.readouterr().out
    assert ticket.tags.filter(name="old").exists()


def test_beat_runs_the_automations_every_few_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["run-automations"]
    assert entry["task"] == "business_rules.tasks.run_automations"
    assert entry["schedule"] <= 600
    assert "close-solved-tickets" not in settings.CELERY_BEAT_SCHEDULE


def test_a_pass_is_skipped_while_another_one_runs(at, committed, settings):
    import psycopg
    from django.db import connection

    from business_rules.automations.run import PASS_LOCK
    from business_rules.tasks import run_automations as run_automations_task

    make_automation("Tag old", all=[("hours_since_created", "greater_than", "1")], actions=[("add_tags", "old")])
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    at(24 * 300)
    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")})
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [PASS_LOCK])  # a pass runs in another worker
        assert committed(run_automations_task) == 0
        assert not ticket.tags.exists()
        other.execute("SELECT pg_advisory_unlock(%s)", [PASS_LOCK])
        assert committed(run_automations_task) >= 1
        assert ticket.tags.filter(name="old").exists()
    finally:
        other.close()


def test_the_event_log_credits_the_automation(at, committed):
    from tickets.models import TicketEvent

    ticket = TicketFactory(status=Ticket.Status.OPEN)
    committed(update_ticket, ticket, status=Ticket.Status.SOLVED)
    at(97)
    committed(run_automations)
    event = ticket.events.get(field="status", new_value="closed")
    assert (event.actor_kind, event.actor_name) == (TicketEvent.ActorKind.AUTOMATION, "Close solved tickets after 4 days")
