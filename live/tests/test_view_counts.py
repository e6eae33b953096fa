"""The sidebar's counts per view: each is what that view's page lists for the same person
(restricted agents count only tickets within their reach), and they are sent again when a
change moves a ticket into or out of someone's reach."""

import pytest
from django.db import transaction
from django.urls import reverse

from live.audience import Batch, Subscription, plan, plan_counts, view_counts
from live.models import LiveEvent
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Ticket
from tickets.queues import QUEUES
from tickets.tests.factories import TicketFactory
from tickets.tests.ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(restricted, agent, support_group, billing_group):
    """Tickets of every kind of reach, status and assignment."""
    for group, channel in [(support_group, Channel.EMAIL), (billing_group, Channel.EMAIL), (None, Channel.X),
                           (None, Channel.WEB), (billing_group, Channel.X)]:
        for status in (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.SOLVED):
            TicketFactory(group=group, channel=channel, status=status)
        TicketFactory(group=group, channel=channel, status=Ticket.Status.PENDING, assignee=restricted)
        TicketFactory(group=group, channel=channel, status=Ticket.Status.OPEN, assignee=agent)


@pytest.mark.parametrize("who", ["admin_user", "agent", "restricted"])
def test_each_count_is_what_the_views_page_lists_for_the_same_person(client, request, desk, who):
    user = request.getfixturevalue(who)
    client.force_login(user)

    counts = view_counts(user, Batch())

    listed = {slug: client.get(reverse("tickets:queue_view", args=[slug])).context["page"].count
              for slug in QUEUES}
    assert counts == listed
    if who == "restricted":
        assert counts["all"] < Ticket.objects.count()


def _recounted(user, since: int) -> dict | None:
    events = list(LiveEvent.objects.filter(pk__gt=since).order_by("pk"))
    sub = Subscription(user=user, channel_name="test")
    _, recount = plan(events, [sub])
    [(_, message)] = plan_counts(recount, Batch()) or [(None, None)]
    return message and message["counts"]


def _last() -> int:
    return LiveEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_a_ticket_leaving_a_restricted_agents_reach_is_counted_out(restricted, agent, support_group, billing_group):
    ticket = TicketFactory(group=support_group, channel=Channel.EMAIL, status=Ticket.Status.OPEN)
    before = view_counts(restricted, Batch())
    since = _last()

    with transaction.atomic():
        update_ticket(ticket, group=billing_group, actor=agent)

    counts = _recounted(restricted, since)
    assert counts is not None, "the restricted agent's counts were not sent again"
    assert counts["open"] == before["open"] - 1 == 0


def test_a_ticket_entering_a_restricted_agents_reach_is_counted_in(restricted, agent, support_group, billing_group):
    ticket = TicketFactory(group=billing_group, channel=Channel.EMAIL, status=Ticket.Status.OPEN)
    since = _last()

    with transaction.atomic():
        update_ticket(ticket, group=support_group, actor=agent)

    assert _recounted(restricted, since)["open"] == 1


def test_a_change_outside_a_restricted_agents_reach_costs_them_no_recount(restricted, agent, billing_group):
    ticket = TicketFactory(group=billing_group, channel=Channel.EMAIL, status=Ticket.Status.OPEN)
    since = _last()

    with transaction.atomic():
        update_ticket(ticket, status=Ticket.Status.PENDING, actor=agent)

    assert _recounted(restricted, since) is None


def test_one_batch_shares_counts_only_between_agents_of_the_same_reach(client, desk, agent, restricted):
    from tickets.models import User

    colleague = User.objects.create_user("grace", role=User.Role.AGENT)
    TicketFactory(status=Ticket.Status.OPEN, assignee=colleague)
    batch = Batch()

    counts = {user.username: view_counts(user, batch) for user in (agent, colleague, restricted)}

    for user in (agent, colleague, restricted):
        client.force_login(user)
        listed = {slug: client.get(reverse("tickets:queue_view", args=[slug])).context["page"].count
                  for slug in QUEUES}
        assert counts[user.username] == listed, user.username
    assert counts["alan"]["mine"] != counts["grace"]["mine"]  # "Mine" is each agent's own


def test_only_personal_views_depend_on_who_asks_beyond_their_reach(agent):
    """Counts are shared by reach (`view_counts`): a view that narrows by the user must say so."""
    from datetime import datetime

    from tickets.models import User

    other = User.objects.create_user("grace", role=User.Role.AGENT)

    def compiled(queue, user):
        sql, params = queue.narrow(Ticket.objects.all(), user).query.sql_with_params()
        return sql, [p for p in params if not isinstance(p, datetime)]  # "breaching" asks the clock

    for slug, queue in QUEUES.items():
        same = compiled(queue, agent) == compiled(queue, other)
        assert same != queue.personal, slug
