"""Order, re-evaluation, once per update, loop safety, and the cascade being one update."""

import pytest

from business_rules.engine import evaluate, load_triggers, run_triggers
from business_rules.models import TriggerFiring
from business_rules.state import TicketState
from tickets import outbound
from tickets.comments import add_comment
from tickets.events import ticket_changed
from tickets.lifecycle import open_ticket, update_ticket
from tickets.models import Channel, Comment, Ticket
from tickets.tests.factories import RequesterFactory, TicketFactory, UserFactory

from .helpers import make_trigger

pytestmark = pytest.mark.django_db

ON_UPDATE = [("update_type", "is", "updated")]


def fired_titles(ticket):
    return list(TriggerFiring.objects.filter(ticket=ticket).order_by("id").values_list("trigger__title", flat=True))


def tags_of(ticket):
    return set(ticket.tags.values_list("name", flat=True))


def test_triggers_fire_in_position_order(django_capture_on_commit_callbacks):
    ticket = TicketFactory()
    make_trigger("third", all=ON_UPDATE, actions=[("add_tags", "c")], position=30)
    make_trigger("first", all=ON_UPDATE, actions=[("add_tags", "a")], position=10)
    make_trigger("second", all=ON_UPDATE, actions=[("add_tags", "b")], position=20)
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, priority=Ticket.Priority.HIGH)
    assert fired_titles(ticket) == ["first", "second", "third"]


def test_later_triggers_see_changes_made_by_earlier_ones():
    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    make_trigger("escalate", all=ON_UPDATE, actions=[("set_priority", "4")], position=1)
    make_trigger("urgent → tag", all=[("priority", "is", "4")], actions=[("add_tags", "urgent")], position=2)
    run_triggers(ticket)
    assert tags_of(ticket) == {"urgent"}


def test_earlier_triggers_are_checked_again_after_a_change():
    ticket = TicketFactory(priority=Ticket.Priority.NORMAL)
    make_trigger("urgent → tag", all=[("tags", "contains_any", "vip")], actions=[("set_priority", "4")], position=1)
    make_trigger("tag vip", all=ON_UPDATE, actions=[("add_tags", "vip")], position=2)
    run_triggers(ticket)
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT
    assert fired_titles(ticket) == ["tag vip", "urgent → tag"]


def test_changed_conditions_see_changes_made_by_triggers():
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    make_trigger("notice", all=[("status", "changed_to", "pending")], actions=[("add_tags", "waiting")], position=1)
    make_trigger("park", all=ON_UPDATE, actions=[("set_status", "pending")], position=2)
    run_triggers(ticket, changes={"subject": ("a", "b")})
    assert tags_of(ticket) == {"waiting"}


def test_each_trigger_fires_at_most_once_per_update():
    ticket = TicketFactory()
    make_trigger("counts", all=ON_UPDATE, actions=[("add_internal_note", "", "", "fired")], position=1)
    make_trigger("changes things", all=ON_UPDATE, actions=[("add_tags", "x")], position=2)
    make_trigger("changes more", all=[("tags", "contains_any", "x")], actions=[("set_priority", "3")], position=3)
    run_triggers(ticket)
    assert ticket.comments.filter(body="fired").count() == 1


def test_two_triggers_that_undo_each_other_cannot_loop():
    ticket = TicketFactory()
    make_trigger("on", all=[("tags", "contains_none", "flag")], actions=[("add_tags", "flag")], position=1)
    make_trigger("off", all=[("tags", "contains_any", "flag")], actions=[("remove_tags", "flag")], position=2)
    run_triggers(ticket)
    assert fired_titles(ticket) == ["on", "off"]
    assert tags_of(ticket) == set()


def test_a_long_chain_resolves_in_one_update():
    """Each trigger enables the one before it: a pass per link, all within one update."""
    ticket = TicketFactory()
    for i in range(5):
        make_trigger(
            f"link {i}",
            all=[("tags", "contains_any", f"step{i + 1}")],
            actions=[("add_tags", f"step{i}")],
            position=i,
        )
    make_trigger("start", all=ON_UPDATE, actions=[("add_tags", "step5")], position=99)
    run_triggers(ticket)
    assert tags_of(ticket) == {f"step{i}" for i in range(6)}
    assert TriggerFiring.objects.filter(ticket=ticket).count() == 6


def test_inactive_triggers_do_not_fire():
    ticket = TicketFactory()
    make_trigger("off", all=ON_UPDATE, actions=[("add_tags", "x")], active=False)
    run_triggers(ticket)
    assert tags_of(ticket) == set()


def test_any_conditions_need_one_to_hold():
    ticket = TicketFactory(channel=Channel.EMAIL)
    make_trigger(
        "any",
        all=ON_UPDATE,
        any=[("channel", "is", "x"), ("channel", "is", "email")],
        actions=[("add_tags", "matched")],
    )
    make_trigger("none", any=[("channel", "is", "x"), ("channel", "is", "web")], actions=[("add_tags", "nope")])
    run_triggers(ticket)
    assert tags_of(ticket) == {"matched"}


def test_a_trigger_without_conditions_never_fires():
    ticket = TicketFactory()
    make_trigger("bare", actions=[("add_tags", "x")])
    assert run_triggers(ticket).fired == []


def test_trigger_changes_do_not_emit_a_new_update(django_capture_on_commit_callbacks):
    ticket = TicketFactory()
    make_trigger("tag", all=ON_UPDATE, actions=[("add_tags", "x"), ("set_priority", "4")])
    make_trigger("note", all=ON_UPDATE, actions=[("add_internal_note", "", "", "noted")])
    events = []

    def record(sender, **kwargs):
        events.append(kwargs["changes"])

    old_subject = ticket.subject
    ticket_changed.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            update_ticket(ticket, subject="New subject")
    finally:
        ticket_changed.disconnect(record)
    assert events == [{"subject": (old_subject, "New subject")}]
    assert TriggerFiring.objects.filter(ticket=ticket).count() == 2


def test_a_reply_that_notifies_is_not_a_new_update(django_capture_on_commit_callbacks, monkeypatch):
    """A channel sender that adds its comment with notifications on must not start a second
    cascade, or an "on every update, acknowledge" trigger would answer itself forever."""
    sent = []

    def send(ticket, body, author, **options):
        sent.append(body)
        return add_comment(ticket, body=body, author_user=author, delivery=Comment.Delivery.QUEUED)

    monkeypatch.setitem(outbound._senders, Channel.X, send)
    ticket = TicketFactory(channel=Channel.X)
    make_trigger("ack", all=ON_UPDATE, actions=[("reply_to_requester", "", "", "Got it")])
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, priority=Ticket.Priority.HIGH)
    assert sent == ["Got it"]
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, priority=Ticket.Priority.LOW)
    assert sent == ["Got it", "Got it"]  # a later, real update is a new cascade


def test_requester_comment_runs_triggers_with_the_comment(django_capture_on_commit_callbacks):
    requester = RequesterFactory()
    ticket = TicketFactory(requester=requester, status=Ticket.Status.SOLVED)
    make_trigger(
        "reopened",
        all=[("updated_by", "is", "requester"), ("status", "changed_from", "solved"), ("comment_text", "contains", "still")],
        actions=[("add_tags", "reopened")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        add_comment(ticket, body="It is still broken", author_requester=requester)
    assert tags_of(ticket) == {"reopened"}


def test_creation_runs_triggers(django_capture_on_commit_callbacks):
    make_trigger("new", all=[("update_type", "is", "created")], actions=[("add_tags", "fresh")])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(requester=RequesterFactory(), subject="Hello")
    assert tags_of(ticket) == {"fresh"}


def test_a_stale_ticket_object_in_the_event_does_not_undo_other_changes(django_capture_on_commit_callbacks):
    """open_ticket's event carries the object it created; add_comment then counted a comment on
    another copy. The trigger's save must not write the stale count back."""
    make_trigger("new", all=[("update_type", "is", "created")], actions=[("set_priority", "3")])
    requester = RequesterFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(requester=requester, subject="Hello")
        add_comment(ticket, body="First message", author_requester=requester, notify=False)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.comment_count) == (Ticket.Priority.HIGH, 1)


def test_evaluation_alone_changes_nothing():
    ticket = TicketFactory()
    make_trigger("tag", all=ON_UPDATE, actions=[("add_tags", "x"), ("add_internal_note", "", "", "n")])
    plan = evaluate(TicketState(ticket), load_triggers())
    assert [t.title for t in plan.fired] == ["tag"]
    assert plan.state.tags == {"x"}
    assert tags_of(ticket) == set() and not ticket.comments.exists()


def test_a_broken_trigger_does_not_break_the_update(django_capture_on_commit_callbacks, monkeypatch, caplog):
    from business_rules import engine

    def explode(plan):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "carry_out", explode)
    ticket = TicketFactory()
    make_trigger("tag", all=ON_UPDATE, actions=[("add_tags", "x")])
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, actor=UserFactory(), priority=Ticket.Priority.HIGH)
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.HIGH
    assert "Triggers failed" in caplog.text
