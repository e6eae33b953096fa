"""Each ticket's SLA clocks: when they start, pause, are fulfilled and breach, in calendar
and business hours, and how they follow a change of policy. Time is frozen throughout."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from business_rules.sla.models import Schedule, TicketClocks
from business_rules.sla.refresh import recompute_open_tickets
from tickets.comments import add_comment, open_ticket_with_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Ticket
from tickets.tests.factories import RequesterFactory, UserFactory

from .sla_helpers import make_policy

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock(time_machine):
    """Move the frozen clock: clock(minutes after T0)."""

    def move(minutes: float = 0) -> datetime:
        moment = T0 + minutes * MINUTE
        time_machine.move_to(moment, tick=False)
        return moment

    move(0)
    return move


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a change and what follows its commit (the clocks' refresh, triggers)."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


@pytest.fixture
def agent():
    return UserFactory()


def x_ticket(committed) -> Ticket:
    comment = committed(
        open_ticket_with_comment, requester=RequesterFactory(), subject="Where is my order?", body="?", channel=Channel.X
    )
    return comment.ticket


def clocks_of(ticket: Ticket):
    return TicketClocks.objects.get(ticket=ticket).as_clocks()


def next_breach(ticket: Ticket):
    return Ticket.objects.values_list("next_breach_at", flat=True).get(pk=ticket.pk)


def test_clocks_start_when_the_ticket_arrives(clock, committed):
    make_policy(all=[("channel", "is", "x")], targets={"first_reply": 60, "resolution": 480})
    ticket = x_ticket(committed)
    clocks = clocks_of(ticket)
    assert clocks["first_reply"].due_at == T0 + 60 * MINUTE
    assert clocks["resolution"].due_at == T0 + 480 * MINUTE
    assert next_breach(ticket) == T0 + 60 * MINUTE


def test_tickets_no_policy_matches_carry_no_clocks(clock, committed):
    make_policy(all=[("channel", "is", "email")], targets={"first_reply": 60})
    ticket = x_ticket(committed)
    assert not TicketClocks.objects.filter(ticket=ticket).exists()
    assert next_breach(ticket) is None


def test_the_first_matching_policy_applies(clock, committed):
    make_policy("X", all=[("channel", "is", "x")], targets={"first_reply": 30}, position=1)
    make_policy("Everything", targets={"first_reply": 240}, position=2)
    ticket = x_ticket(committed)
    assert next_breach(ticket) == T0 + 30 * MINUTE
    assert TicketClocks.objects.get(ticket=ticket).policy.title == "X"


def test_a_public_reply_fulfils_first_reply_and_an_internal_note_does_not(clock, committed, agent):
    make_policy(targets={"first_reply": 60})
    ticket = x_ticket(committed)
    clock(10)
    committed(add_comment, ticket, body="checking with the warehouse", author_user=agent, is_public=False)
    assert clocks_of(ticket)["first_reply"].fulfilled_at is None
    assert next_breach(ticket) == T0 + 60 * MINUTE
    clock(20)
    committed(add_comment, ticket, body="On its way!", author_user=agent, is_public=True, channel=Channel.X_DM)
    first = clocks_of(ticket)["first_reply"]
    assert first.fulfilled_at == T0 + 20 * MINUTE
    assert first.breached_at is None
    assert next_breach(ticket) is None


def test_a_late_reply_fulfils_the_clock_as_breached(clock, committed, agent):
    make_policy(targets={"first_reply": 60})
    ticket = x_ticket(committed)
    clock(90)
    assert clocks_of(ticket)["first_reply"].breached(T0 + 90 * MINUTE)
    committed(add_comment, ticket, body="Sorry for the wait", author_user=agent)
    first = clocks_of(ticket)["first_reply"]
    assert first.fulfilled_at == T0 + 90 * MINUTE
    assert first.breached_at == T0 + 60 * MINUTE


def test_requester_wait_and_resolution_pause_while_pending(clock, committed, agent):
    make_policy(targets={"requester_wait": 120, "resolution": 480, "first_reply": 600})
    ticket = x_ticket(committed)
    clock(30)
    committed(add_comment, ticket, body="Which order?", author_user=agent)
    ticket.refresh_from_db()
    committed(update_ticket, ticket, status=Ticket.Status.PENDING, actor=agent)
    paused = clocks_of(ticket)
    assert paused["requester_wait"].paused and paused["requester_wait"].elapsed == 30 * 60
    assert paused["resolution"].paused and paused["resolution"].due_at is None
    assert next_breach(ticket) is None  # nothing runs while we wait for the requester
    clock(300)  # the requester answers 4.5 hours later: the ticket reopens
    committed(add_comment, ticket, body="Order 42", author_requester=ticket.requester)
    resumed = clocks_of(ticket)
    assert resumed["requester_wait"].due_at == T0 + 300 * MINUTE + 90 * MINUTE
    assert resumed["resolution"].due_at == T0 + 300 * MINUTE + 450 * MINUTE
    assert next_breach(ticket) == T0 + 390 * MINUTE


def test_a_breached_target_stays_breached_while_its_clock_is_paused(clock, committed, agent):
    make_policy(targets={"requester_wait": 60, "resolution": 480})
    ticket = x_ticket(committed)
    clock(90)  # requester wait breached 30 minutes ago; the agent asks a question, sets pending
    committed(add_comment, ticket, body="Which order?", author_user=agent)
    ticket.refresh_from_db()
    committed(update_ticket, ticket, status=Ticket.Status.PENDING, actor=agent)
    wait = clocks_of(ticket)["requester_wait"]
    assert wait.paused and wait.breached_at == T0 + 60 * MINUTE
    # Paused, but still breached: the queue's badge, sort and views read this.
    assert next_breach(ticket) == T0 + 60 * MINUTE
    clock(300)  # the requester answers and the clock runs again: breached since T0+60, not since now
    committed(add_comment, ticket, body="Order 42", author_requester=ticket.requester)
    assert clocks_of(ticket)["requester_wait"].running_since == T0 + 300 * MINUTE
    assert next_breach(ticket) == T0 + 60 * MINUTE


def test_solving_fulfils_requester_wait_and_resolution(clock, committed, agent):
    make_policy(targets={"requester_wait": 120, "resolution": 480})
    ticket = x_ticket(committed)
    clock(200)
    committed(update_ticket, ticket, status=Ticket.Status.SOLVED, actor=agent)
    clocks = clocks_of(ticket)
    assert clocks["requester_wait"].fulfilled_at == T0 + 200 * MINUTE
    assert clocks["requester_wait"].breached_at == T0 + 120 * MINUTE
    assert clocks["resolution"].fulfilled_at == T0 + 200 * MINUTE
    assert clocks["resolution"].breached_at is None
    assert next_breach(ticket) is None


def test_next_reply_runs_from_the_requesters_first_unanswered_message(clock, committed, agent):
    make_policy(targets={"next_reply": 30})
    ticket = x_ticket(committed)
    clock(5)
    committed(add_comment, ticket, body="Hello!", author_user=agent)
    assert "next_reply" not in clocks_of(ticket)
    clock(60)
    committed(add_comment, ticket, body="Still nothing", author_requester=ticket.requester)
    clock(70)
    committed(add_comment, ticket, body="Hello??", author_requester=ticket.requester)
    assert clocks_of(ticket)["next_reply"].due_at == T0 + 90 * MINUTE
    clock(80)
    committed(add_comment, ticket, body="Here it is", author_user=agent)
    reply = clocks_of(ticket)["next_reply"]
    assert reply.fulfilled_at == T0 + 80 * MINUTE and reply.breached_at is None


def test_periodic_update_restarts_with_each_agent_reply(clock, committed, agent):
    make_policy(targets={"periodic_update": 240})
    ticket = x_ticket(committed)
    assert next_breach(ticket) is None  # starts with the first agent reply
    clock(10)
    committed(add_comment, ticket, body="Looking", author_user=agent)
    assert next_breach(ticket) == T0 + 250 * MINUTE
    clock(100)
    committed(add_comment, ticket, body="Still looking", author_user=agent)
    assert next_breach(ticket) == T0 + 340 * MINUTE


def test_business_hours_across_a_weekend_and_a_clock_change(time_machine, committed):
    paris = ZoneInfo("Europe/Paris")
    schedule = Schedule.objects.create(name="Paris office", time_zone="Europe/Paris")
    for weekday in range(5):
        schedule.intervals.create(weekday=weekday, opens=time(9), closes=time(17))
    make_policy(targets={"first_reply": 120}, schedule=schedule)
    # Friday 27 March 2026 16:00 in Paris; summer time starts on Sunday the 29th.
    time_machine.move_to(datetime(2026, 3, 27, 16, tzinfo=paris), tick=False)
    ticket = x_ticket(committed)
    assert next_breach(ticket) == datetime(2026, 3, 30, 10, tzinfo=paris)
    assert next_breach(ticket) == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_a_policy_change_recomputes_open_tickets_only(clock, committed, agent):
    policy = make_policy(targets={"first_reply": 60, "resolution": 600})
    open_ticket = x_ticket(committed)
    solved = x_ticket(committed)
    committed(update_ticket, solved, status=Ticket.Status.SOLVED, actor=agent)
    solved_clocks = TicketClocks.objects.get(ticket=solved).clocks
    clock(10)
    target = policy.targets.get()
    target.first_reply = 30
    committed(target.save)  # the admin's save: recomputed once committed
    assert next_breach(open_ticket) == T0 + 30 * MINUTE
    assert TicketClocks.objects.get(ticket=solved).clocks == solved_clocks


def test_a_ticket_leaving_every_policy_loses_its_clocks(clock, committed):
    policy = make_policy(all=[("priority", "is", "2")], targets={"first_reply": 60})
    ticket = x_ticket(committed)
    assert next_breach(ticket) == T0 + 60 * MINUTE
    policy.active = False
    policy.save()
    recompute_open_tickets()
    assert next_breach(ticket) is None
    assert not TicketClocks.objects.filter(ticket=ticket).exists()


def test_raising_the_priority_moves_the_clocks_to_that_prioritys_targets(clock, committed, agent):
    policy = make_policy(targets={"first_reply": 240})
    policy.targets.create(priority=Ticket.Priority.URGENT, first_reply=15)
    ticket = x_ticket(committed)
    assert next_breach(ticket) == T0 + 240 * MINUTE
    clock(5)
    committed(update_ticket, ticket, priority=Ticket.Priority.URGENT, actor=agent)
    assert next_breach(ticket) == T0 + 15 * MINUTE


def test_moving_the_schedule_to_another_time_zone_moves_the_due_times(clock, committed):
    schedule = Schedule.objects.create(name="Office", time_zone="UTC")
    for weekday in range(5):
        schedule.intervals.create(weekday=weekday, opens=time(9), closes=time(17))
    make_policy(targets={"first_reply": 120}, schedule=schedule)
    clock(6 * 60)  # Monday 16:00 UTC: one working hour left today
    ticket = x_ticket(committed)
    assert next_breach(ticket) == datetime(2026, 3, 3, 10, tzinfo=UTC)
    schedule.time_zone = "America/New_York"  # 16:00 UTC is 11:00 there: two hours left today
    committed(schedule.save)
    assert next_breach(ticket) == datetime(2026, 3, 2, 18, tzinfo=UTC)


def test_a_policy_deleted_by_another_process_is_not_used(clock, committed):
    from django.db import connection

    from business_rules.models import RulesVersion, SlaPolicy, SlaTarget
    from business_rules.sla.refresh import refresh_clocks

    policy = make_policy(targets={"first_reply": 60})
    ticket = x_ticket(committed)  # this process has compiled the policies
    # Another process deletes the policy: its rows go and the version moves, without
    # this process's signals clearing its compiled copy.
    TicketClocks.objects.update(policy=None)
    with connection.cursor() as cursor:  # no signals here: they run in the other process
        cursor.execute(f"DELETE FROM {SlaTarget._meta.db_table} WHERE policy_id = %s", [policy.pk])
        cursor.execute(f"DELETE FROM {SlaPolicy._meta.db_table} WHERE id = %s", [policy.pk])
    RulesVersion.objects.filter(name="sla").update(version=12345)
    clock(1)
    refresh_clocks([ticket.pk])
    connection.check_constraints()  # no clocks pointing at the deleted policy
    assert not TicketClocks.objects.filter(ticket=ticket).exists()
    assert next_breach(ticket) is None
