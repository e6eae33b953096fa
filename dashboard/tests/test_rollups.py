"""The dashboard's rollups: counted as tickets change, in the hour or day each event happened
(late ones included), equal to a rebuild from the tickets; the figures a range shows; who
sees which groups."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.data import dashboard_data
from dashboard.models import Rollup
from dashboard.rollups import rebuild
from tickets.comments import add_comment, open_ticket_with_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Ticket, User
from tickets.tests.factories import AdminFactory, GroupFactory, RequesterFactory, UserFactory

NOW = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)


@contextmanager
def at(when: datetime):
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


@pytest.fixture
def run_signals(django_capture_on_commit_callbacks):
    @contextmanager
    def run(when: datetime):
        with at(when), django_capture_on_commit_callbacks(execute=True):
            yield
    return run


@pytest.fixture
def agent(db):
    return UserFactory(role=User.Role.AGENT, first_name="Dana", last_name="")


def opened(run_signals, when, channel=Channel.EMAIL, group=None) -> Ticket:
    with run_signals(when):
        comment = open_ticket_with_comment(requester=RequesterFactory(), subject="Help", body="Help me",
                                           channel=channel, group=group)
    return comment.ticket


def reply(run_signals, ticket, agent, when, public=True):
    with run_signals(when):
        add_comment(Ticket.objects.get(pk=ticket.pk), body="On it", author_user=agent, is_public=public)


def solve(run_signals, ticket, agent, when):
    with run_signals(when):
        update_ticket(Ticket.objects.get(pk=ticket.pk), actor=agent, status=Ticket.Status.SOLVED)


def cells() -> list[tuple]:
    return sorted(Rollup.objects.values_list("metric", "start", "group_id", "dim", "bucket", "count"))


def test_incremental_rollups_equal_a_rebuild_after_late_events(run_signals, agent):
    group = GroupFactory(name="Billing")
    t0 = NOW - timedelta(days=3)
    ticket = opened(run_signals, t0, group=group)
    reply(run_signals, ticket, agent, t0 + timedelta(minutes=30))
    reply(run_signals, ticket, agent, t0 + timedelta(hours=2))
    reply(run_signals, ticket, agent, t0 + timedelta(hours=3), public=False)  # a note is no reply
    solve(run_signals, ticket, agent, t0 + timedelta(days=1))
    # late: a ticket opened 20 days ago, answered and solved only now
    old = opened(run_signals, NOW - timedelta(days=20), channel=Channel.WEB)
    reply(run_signals, old, agent, NOW)
    solve(run_signals, old, agent, NOW)
    incremental = cells()
    assert ("first_reply", (t0 + timedelta(minutes=30)).replace(hour=0, minute=0), group.pk, "email", 4, 1) in \
        incremental  # 30 minutes: the bucket up to 1800 s
    assert rebuild() == len(incremental)
    assert cells() == incremental


def test_a_range_sums_its_days_and_reads_percentiles_from_the_histograms(run_signals, agent):
    # 10 email tickets answered after 1, 2, … 10 minutes, all today
    start = NOW.replace(hour=0, minute=5)
    for minutes in range(1, 11):
        ticket = opened(run_signals, start)
        reply(run_signals, ticket, agent, start + timedelta(minutes=minutes))
    solve(run_signals, ticket, agent, start + timedelta(hours=2))
    opened(run_signals, NOW - timedelta(days=10), channel=Channel.WEB)  # outside 7 days
    admin = AdminFactory()

    week = dashboard_data(admin, "7d", now=NOW)
    assert week["first_reply_minutes"] == {"labels": ["Email"], "counts": [10], "p50": [5.0], "p90": [9.0]}
    assert week["resolution_hours"]["labels"] == ["Email"] and week["resolution_hours"]["counts"] == [1]
    created = {d["label"]: sum(d["data"]) for d in week["created_per_hour"]["datasets"]}
    assert created == {"Email": 10}
    assert len(week["created_per_hour"]["labels"]) == 6 * 24 + NOW.hour + 1
    assert week["agents"] == {"labels": ["Dana"], "replies": [10], "solves": [1]}
    assert week["backlog"]["labels"] == ["New", "Open", "Pending", "On-hold"]
    assert sum(week["backlog"]["data"]) == 10  # 9 answered and open, 1 new (web); the solved one is out
    month = dashboard_data(admin, "30d", now=NOW)
    assert {d["label"]: sum(d["data"]) for d in month["created_per_hour"]["datasets"]} == {"Email": 10, "Web": 1}


def test_mention_to_ticket_lag_per_account_and_intake_mode(db, django_capture_on_commit_callbacks):
    from twitter_channel.intake import conversion
    from twitter_channel.tests.answering_helpers import make_account, make_item

    account = make_account()
    now = timezone.now()
    for seconds in (4, 12, 40):
        make_item(account, x_created_at=now - timedelta(seconds=seconds), fetched_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        conversion.convert_pending()
    lag = dashboard_data(AdminFactory(), "today")["intake_lag_seconds"]
    assert lag["labels"] == ["@AcmeHelp/polling"] and lag["counts"] == [3]
    assert 10 <= lag["p50"][0] <= 15 and 30 <= lag["p95"][0] <= 45


def test_agents_see_their_groups_admins_see_all(client, run_signals, agent):
    mine, theirs = GroupFactory(name="Mine"), GroupFactory(name="Theirs")
    agent.groups_member_of.add(mine)
    opened(run_signals, NOW, group=mine)
    opened(run_signals, NOW, group=theirs, channel=Channel.WEB)
    opened(run_signals, NOW, channel=Channel.X)  # no group

    def created(user) -> dict:
        client.force_login(user)
        data = client.get(reverse("dashboard:data"), {"range": "today"}).json()
        return {d["label"]: sum(d["data"]) for d in data["created_per_hour"]["datasets"]}

    assert created(agent) == {"Email": 1, "X": 1}
    restricted = UserFactory(role=User.Role.RESTRICTED)
    restricted.allowed_groups.add(theirs)
    assert created(restricted) == {"Web": 1}
    assert created(AdminFactory()) == {"Email": 1, "Web": 1, "X": 1}


def test_the_dashboard_needs_a_login(client, db):
    assert client.get(reverse("dashboard:data")).status_code == 302
    assert client.get(reverse("dashboard:dashboard")).status_code == 302
