"""Each action, run through the real path: a ticket update, its on-commit event, the engine."""

import logging

import pytest
from django.utils import timezone

from business_rules.models import TriggerFiring
from tickets import outbound
from tickets.comments import add_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Comment, Identity, Ticket
from tickets.tests.factories import GroupFactory, RequesterFactory, TicketFactory, UserFactory

from .helpers import make_trigger

pytestmark = pytest.mark.django_db

ON_UPDATE = [("update_type", "is", "updated")]


@pytest.fixture
def ticket():
    requester = RequesterFactory(name="Alice Doe")
    return TicketFactory(requester=requester, status=Ticket.Status.OPEN, subject="Parcel lost")


def touch(ticket, capture, **fields):
    """An agent-side update that emits ticket_changed on commit, as the UI's would."""
    with capture(execute=True):
        update_ticket(ticket, **(fields or {"priority": Ticket.Priority.LOW}))
    ticket.refresh_from_db()
    return ticket


def tags_of(ticket):
    return set(ticket.tags.values_list("name", flat=True))


def test_set_status(ticket, django_capture_on_commit_callbacks):
    make_trigger(all=ON_UPDATE, actions=[("set_status", "pending")])
    assert touch(ticket, django_capture_on_commit_callbacks).status == Ticket.Status.PENDING


def test_set_status_solved_stamps_solved_at(ticket, django_capture_on_commit_callbacks):
    make_trigger(all=ON_UPDATE, actions=[("set_status", "solved")])
    ticket = touch(ticket, django_capture_on_commit_callbacks)
    assert ticket.status == Ticket.Status.SOLVED
    assert ticket.solved_at is not None


def test_a_closed_ticket_is_never_reopened(django_capture_on_commit_callbacks):
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    make_trigger(all=ON_UPDATE, actions=[("set_status", "open"), ("add_tags", "seen")])
    ticket = touch(ticket, django_capture_on_commit_callbacks, priority=Ticket.Priority.HIGH)
    assert ticket.status == Ticket.Status.CLOSED
    assert tags_of(ticket) == {"seen"}


def test_set_priority(ticket, django_capture_on_commit_callbacks):
    make_trigger(all=ON_UPDATE, actions=[("set_priority", "4")])
    assert touch(ticket, django_capture_on_commit_callbacks, subject="x").priority == Ticket.Priority.URGENT


def test_set_group_and_clear_it(ticket, django_capture_on_commit_callbacks):
    social = GroupFactory(name="Social")
    trigger = make_trigger(all=ON_UPDATE, actions=[("set_group", str(social.pk))])
    assert touch(ticket, django_capture_on_commit_callbacks).group == social
    trigger.actions.update(value="")
    trigger.save()  # the admin saves the trigger too; that is what tells the caches
    assert touch(ticket, django_capture_on_commit_callbacks, priority=3).group is None


def test_set_assignee(ticket, django_capture_on_commit_callbacks):
    agent = UserFactory()
    make_trigger(all=ON_UPDATE, actions=[("set_assignee", str(agent.pk))])
    assert touch(ticket, django_capture_on_commit_callbacks).assignee == agent


def test_an_assignee_deleted_since_is_skipped_and_recorded(ticket, django_capture_on_commit_callbacks):
    agent = UserFactory()
    trigger = make_trigger(all=ON_UPDATE, actions=[("set_assignee", str(agent.pk)), ("add_tags", "routed")])
    agent.delete()
    ticket = touch(ticket, django_capture_on_commit_callbacks)
    assert ticket.assignee is None
    assert tags_of(ticket) == {"routed"}
    assert "no longer exists" in TriggerFiring.objects.get(trigger=trigger).problems


def test_add_remove_and_set_tags(ticket, django_capture_on_commit_callbacks):
    ticket.tags.create(name="old")
    ticket.tags.create(name="keep")
    make_trigger("add", all=ON_UPDATE, actions=[("add_tags", "new vip")], position=1)
    make_trigger("remove", all=ON_UPDATE, actions=[("remove_tags", "old")], position=2)
    assert tags_of(touch(ticket, django_capture_on_commit_callbacks)) == {"keep", "new", "vip"}


def test_set_tags_replaces_all(ticket, django_capture_on_commit_callbacks):
    ticket.tags.create(name="old")
    make_trigger(all=ON_UPDATE, actions=[("set_tags", "only these")])
    assert tags_of(touch(ticket, django_capture_on_commit_callbacks)) == {"only", "these"}


def test_add_internal_note(ticket, django_capture_on_commit_callbacks):
    make_trigger(all=ON_UPDATE, actions=[("add_internal_note", "", "", "Escalated #{{ticket.id}}")])
    touch(ticket, django_capture_on_commit_callbacks)
    note = ticket.comments.get()
    assert note.is_internal
    assert note.body == f"Escalated #{ticket.pk}"
    assert note.author_user is None and note.author_requester is None


def test_current_user_is_the_agent_whose_update_ran_the_triggers(ticket, django_capture_on_commit_callbacks):
    make_trigger(all=ON_UPDATE, actions=[("add_internal_note", "", "", "Changed by {{current_user.first_name}}")])
    agent = UserFactory(first_name="Dana")
    touch(ticket, django_capture_on_commit_callbacks, priority=Ticket.Priority.LOW, actor=agent)
    assert ticket.comments.get().body == "Changed by Dana"


def test_email_the_assignee(ticket, django_capture_on_commit_callbacks, mailoutbox, settings):
    settings.SITE_URL = "https://help.example.com"
    agent = UserFactory(email="agent@example.com")
    ticket.assignee = agent
    ticket.save()
    make_trigger(
        all=ON_UPDATE,
        actions=[("email_assignee", "", "Ticket #{{ticket.id}} moved", "See {{ticket.url}} from {{requester.name}}")],
    )
    touch(ticket, django_capture_on_commit_callbacks)
    (mail,) = mailoutbox
    assert mail.to == ["agent@example.com"]
    assert mail.subject == f"Ticket #{ticket.pk} moved"
    assert mail.body == f"See https://help.example.com{ticket.get_absolute_url()} from Alice Doe"


def test_email_the_assignee_without_one_is_recorded(ticket, django_capture_on_commit_callbacks, mailoutbox):
    trigger = make_trigger(all=ON_UPDATE, actions=[("email_assignee", "", "Hi", "Body")])
    touch(ticket, django_capture_on_commit_callbacks)
    assert mailoutbox == []
    assert "no assignee" in TriggerFiring.objects.get(trigger=trigger).problems


def test_email_the_group(ticket, django_capture_on_commit_callbacks, mailoutbox):
    group = GroupFactory(name="Social")
    for email in ("a@example.com", "b@example.com", ""):
        UserFactory(email=email).groups_member_of.add(group)
    ticket.group = group
    ticket.save()
    make_trigger(all=ON_UPDATE, actions=[("email_group", "", "New in {{ticket.group}}", "{{ticket.subject}}")])
    touch(ticket, django_capture_on_commit_callbacks)
    (mail,) = mailoutbox
    assert mail.to == ["a@example.com", "b@example.com"]
    assert (mail.subject, mail.body) == ("New in Social", "Parcel lost")


def test_email_the_requester_at_their_primary_address(ticket, django_capture_on_commit_callbacks, mailoutbox):
    confirmed = timezone.now()
    Identity.objects.create(requester=ticket.requester, kind="email", value="old@example.com", confirmed_at=confirmed)
    Identity.objects.create(requester=ticket.requester, kind="email", value="alice@example.com",
                            confirmed_at=confirmed, is_primary=True)
    make_trigger(all=ON_UPDATE, actions=[("email_requester", "", "We got it", "Hello {{requester.name}}")])
    touch(ticket, django_capture_on_commit_callbacks)
    (mail,) = mailoutbox
    assert mail.to == ["alice@example.com"]
    assert mail.body == "Hello Alice Doe"


def test_an_unconfirmed_address_gets_no_trigger_email(ticket, django_capture_on_commit_callbacks, mailoutbox):
    # An address nobody confirmed (held from before confirmation existed) could be anybody's.
    Identity.objects.create(requester=ticket.requester, kind="email", value="stranger@example.com")
    trigger = make_trigger("Ack", all=ON_UPDATE, actions=[("email_requester", "", "We got it", "Hello")])
    touch(ticket, django_capture_on_commit_callbacks)
    assert mailoutbox == []
    assert "no confirmed email address" in TriggerFiring.objects.get(trigger=trigger).problems


def test_email_the_requester_without_email_is_skipped_with_a_logged_reason(
    ticket, django_capture_on_commit_callbacks, mailoutbox, caplog
):
    Identity.objects.create(requester=ticket.requester, kind="x", value="1", handle="alice")
    trigger = make_trigger("Ack", all=ON_UPDATE, actions=[("email_requester", "", "We got it", "Hello")])
    with caplog.at_level(logging.INFO, logger="business_rules.engine"):
        touch(ticket, django_capture_on_commit_callbacks)
    assert mailoutbox == []
    assert "requester has no confirmed email address" in TriggerFiring.objects.get(trigger=trigger).problems
    assert "requester has no confirmed email address" in caplog.text


@pytest.fixture
def x_sender(monkeypatch):
    """A stand-in for the X channel's sender: records a pending public comment, the way the
    real one does, notifying like any comment (the engine must not take that as a new update)."""
    sent = []

    def send(ticket, body, author, **options):
        sent.append((ticket.pk, body))
        return add_comment(ticket, body=body, author_user=author, delivery=Comment.Delivery.QUEUED)

    monkeypatch.setitem(outbound._senders, Channel.X, send)
    return sent


def test_reply_to_requester_goes_through_the_channel_sender(django_capture_on_commit_callbacks, x_sender):
    ticket = TicketFactory(channel=Channel.X)
    make_trigger(
        all=[("update_type", "is", "created")],
        actions=[("reply_to_requester", "", "", "Thanks {{requester.name}}, ticket #{{ticket.id}} is open.")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        from tickets.lifecycle import open_ticket

        ticket = open_ticket(requester=ticket.requester, subject="Hi", channel=Channel.X)
    assert x_sender == [(ticket.pk, f"Thanks {ticket.requester.name}, ticket #{ticket.pk} is open.")]
    reply = ticket.comments.get()
    assert reply.is_public and reply.delivery == Comment.Delivery.QUEUED


def test_reply_without_a_sender_for_the_channel_is_recorded_not_raised(ticket, django_capture_on_commit_callbacks):
    trigger = make_trigger(all=ON_UPDATE, actions=[("reply_to_requester", "", "", "Hello"), ("add_tags", "acked")])
    ticket = touch(ticket, django_capture_on_commit_callbacks)  # a Web ticket: nobody registered a sender
    assert tags_of(ticket) == {"acked"}
    assert "No way to reply on channel Web" in TriggerFiring.objects.get(trigger=trigger).problems


def test_firings_are_recorded_per_trigger(ticket, django_capture_on_commit_callbacks):
    fired = make_trigger("fires", all=ON_UPDATE, actions=[("add_tags", "a")])
    make_trigger("does not", all=[("update_type", "is", "created")], actions=[("add_tags", "b")])
    touch(ticket, django_capture_on_commit_callbacks)
    assert list(TriggerFiring.objects.values_list("trigger", "ticket", "problems")) == [(fired.pk, ticket.pk, "")]
