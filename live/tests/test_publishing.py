"""Every change tickets announces becomes one live event, after commit, never before."""

import pytest
from django.db import transaction

from live.models import LiveEvent
from tickets.comments import add_comment, open_ticket_with_comment
from tickets.events import announce_delivery
from tickets.lifecycle import update_ticket
from tickets.models import Comment
from tickets.tests.factories import RequesterFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_new_ticket_comment_and_change_are_published_after_commit():
    agent = UserFactory()
    with transaction.atomic():
        ticket = open_ticket_with_comment(requester=RequesterFactory(), subject="Hi", body="help").ticket
        assert not LiveEvent.objects.exists()  # nothing before the commit
    created = LiveEvent.objects.get()
    assert created.ticket_id == ticket.pk and created.data["created"] is True and created.data["from_requester"]

    update_ticket(ticket, assignee=agent, actor=agent)
    add_comment(ticket, body="on it", author_user=agent)
    assigned, commented = LiveEvent.objects.order_by("pk")[1:]
    assert assigned.data["assigned_to"] == agent.pk and assigned.data["actor"] == agent.pk
    assert assigned.data["by"] == str(agent)
    assert "assignee_id" in assigned.data["fields"]
    assert commented.data["comment"] and commented.data["from_requester"] is False


def test_rolled_back_change_publishes_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        open_ticket_with_comment(requester=RequesterFactory(), subject="Hi", body="help")
        raise RuntimeError
    assert not LiveEvent.objects.exists()


def test_delivery_state_changes_are_published():
    ticket = open_ticket_with_comment(requester=RequesterFactory(), subject="Hi", body="help").ticket
    comment = add_comment(ticket, body="reply", author_user=UserFactory(), delivery=Comment.Delivery.QUEUED)
    with transaction.atomic():
        announce_delivery(comment.pk, ticket.pk, Comment.Delivery.SENT)
    event = LiveEvent.objects.filter(kind=LiveEvent.Kind.DELIVERY).get()
    assert event.ticket_id == ticket.pk and event.data == {"comment": comment.pk, "delivery": "sent"}


def test_a_change_by_a_trigger_is_published_under_the_triggers_name():
    from tickets.events import Actor

    ticket = open_ticket_with_comment(requester=RequesterFactory(), subject="Hi", body="help").ticket
    update_ticket(ticket, priority=4, actor=Actor.trigger("Escalate angry customers"))
    event = LiveEvent.objects.order_by("-pk").first()
    assert event.data["by"] == "Escalate angry customers" and event.data["actor"] is None
