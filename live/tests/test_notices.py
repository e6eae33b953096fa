"""Notices: a new ticket in a followed view, a ticket assigned to me, a customer reply on mine."""

import pytest
from django.db import transaction

from live.audience import Subscription, plan
from live.models import FollowedView, LiveEvent
from tickets.comments import add_comment, open_ticket_with_comment
from tickets.lifecycle import update_ticket
from tickets.models import User
from tickets.tests.factories import RequesterFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _notices(user, since=0):
    events = list(LiveEvent.objects.filter(pk__gt=since).order_by("pk"))
    sub = Subscription(user=user, channel_name="test")
    sub.followed = set(FollowedView.objects.filter(user=user).values_list("view", flat=True))
    messages, _ = plan(events, [sub])
    return [m for s, m in messages if m["type"] == "notice"]


def _last():
    return LiveEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_new_ticket_notifies_only_followers_of_a_view_it_is_in():
    follower, other = UserFactory(), UserFactory()
    FollowedView.objects.create(user=follower, view="unassigned")
    with transaction.atomic():
        open_ticket_with_comment(requester=RequesterFactory(), subject="Parcel lost", body="where is it")
    [notice] = _notices(follower)
    assert notice["kind"] == "new" and "Parcel lost" in notice["text"] and notice["title"] == "New ticket in Unassigned"
    assert _notices(other) == []


def test_assignment_and_customer_reply_notify_the_assignee_not_the_actor():
    alan, ada = UserFactory(username="alan"), UserFactory(username="ada", role=User.Role.ADMIN)
    ticket = open_ticket_with_comment(requester=RequesterFactory(), subject="Parcel lost", body="?").ticket
    before = _last()
    update_ticket(ticket, assignee=alan, actor=ada)
    assert [n["kind"] for n in _notices(alan, before)] == ["assigned"]
    assert _notices(ada, before) == []

    before = _last()
    update_ticket(ticket, assignee=ada, actor=ada)  # assigning yourself is no news
    assert _notices(ada, before) == []

    before = _last()
    add_comment(ticket, body="Any news?", author_requester=ticket.requester)
    assert [n["kind"] for n in _notices(ada, before)] == ["reply"]
    assert _notices(alan, before) == []
