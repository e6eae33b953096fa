"""Rollups stay equal to a rebuild when a merge moves comments between tickets, and count
SLA targets as they are achieved or breached."""

from __future__ import annotations

from datetime import timedelta

import pytest

from business_rules.models import SlaPolicy
from dashboard.data import dashboard_data
from dashboard.models import Rollup
from dashboard.rollups import rebuild
from tickets.merging import merge_tickets
from tickets.models import Channel, Ticket
from tickets.tests.factories import AdminFactory, GroupFactory

from .test_rollups import NOW, agent, cells, opened, reply, run_signals, solve  # noqa: F401


def totals(metric: str) -> dict[str, int]:
    """Admins' figures (the all-groups cells) summed per dimension."""
    out: dict[str, int] = {}
    for dim, count in Rollup.objects.filter(metric=metric, group_id=-1).values_list("dim", "count"):
        out[dim] = out.get(dim, 0) + count
    return {d: n for d, n in out.items() if n}


def merge(signals, source, target, by, when):
    with signals(when):
        merge_tickets(Ticket.objects.get(pk=source.pk), Ticket.objects.get(pk=target.pk), by=by)


def test_rollups_equal_a_rebuild_after_a_merge(run_signals, agent):  # noqa: F811
    billing, social = GroupFactory(name="Billing"), GroupFactory(name="Social")
    t0 = NOW - timedelta(days=2)
    dm = opened(run_signals, t0, channel=Channel.X_DM, group=social)
    mention = opened(run_signals, t0 + timedelta(hours=1), channel=Channel.X, group=billing)
    reply(run_signals, dm, agent, t0 + timedelta(minutes=10))  # the DM's first reply
    reply(run_signals, mention, agent, t0 + timedelta(hours=3))  # the mention's, later
    reply(run_signals, dm, agent, t0 + timedelta(hours=4))
    solve(run_signals, dm, agent, t0 + timedelta(hours=5))
    created = totals("created")

    merge(run_signals, dm, mention, agent, t0 + timedelta(hours=6))

    incremental = cells()
    assert rebuild() == len(incremental)
    assert cells() == incremental
    # Per day, channel and agent: tickets created and replies made stay what they were; the
    # replies now count in the mention's group. The merged ticket has one first reply, the
    # DM's, which came before the mention was opened: measured from the ticket's own
    # opening, it counts as immediate (bucket 0), as a rebuild counts it.
    assert totals("created") == created
    assert totals("replies") == {str(agent.pk): 3}
    # (summed: the replies span six hours, which cross midnight when the suite runs after 18:30)
    billing_replies = Rollup.objects.filter(metric="replies", group_id=billing.pk).values_list("count", flat=True)
    assert sum(billing_replies) == 3
    assert not Rollup.objects.filter(metric="replies", group_id=social.pk).exists()
    first = Rollup.objects.filter(metric="first_reply", group_id=-1)
    assert list(first.values_list("dim", "bucket", "count")) == [("x", 0, 1)]
    assert totals("solves") == {str(agent.pk): 1}  # the DM's solve happened, merged or not


def test_a_merge_into_a_ticket_without_replies_moves_its_first_reply(run_signals, agent):  # noqa: F811
    source = opened(run_signals, NOW - timedelta(hours=5))
    target = opened(run_signals, NOW - timedelta(hours=4), channel=Channel.WEB)
    reply(run_signals, source, agent, NOW - timedelta(hours=3))

    merge(run_signals, source, target, agent, NOW - timedelta(hours=1))

    incremental = cells()
    rebuild()
    assert cells() == incremental
    # One first reply still, now the web ticket's (one hour after it was opened).
    assert totals("first_reply") == {"web": 1}


@pytest.fixture
def within_the_hour(db):
    policy = SlaPolicy.objects.create(title="Within the hour")
    for priority in Ticket.Priority.values:
        policy.targets.create(priority=priority, first_reply=60, resolution=4 * 60)
    return policy


def test_sla_targets_are_counted_achieved_or_breached_as_they_end(run_signals, agent, within_the_hour):  # noqa: F811
    start = NOW.replace(hour=1, minute=0)
    on_time = opened(run_signals, start)
    late = opened(run_signals, start)
    open_still = opened(run_signals, start)  # nothing fulfilled: counts nowhere yet
    reply(run_signals, on_time, agent, start + timedelta(minutes=30))
    reply(run_signals, late, agent, start + timedelta(hours=2))
    solve(run_signals, on_time, agent, start + timedelta(hours=3))

    sla = dashboard_data(AdminFactory(), "today", now=NOW)["sla"]

    assert sla == {"labels": ["First reply", "Resolution"], "achieved": [1, 1], "breached": [1, 0]}
    assert open_still.sla_clocks.clocks["first_reply"]["fulfilled_at"] is None
    incremental = cells()
    rebuild()
    assert cells() == incremental


def test_agents_see_the_sla_figures_of_their_groups_only(run_signals, agent, within_the_hour):  # noqa: F811
    mine, theirs = GroupFactory(name="Support"), GroupFactory(name="Billing")
    agent.groups_member_of.add(mine)
    start = NOW.replace(hour=1, minute=0)
    for group in (mine, theirs, theirs):
        reply(run_signals, opened(run_signals, start, group=group), agent, start + timedelta(minutes=5))

    assert dashboard_data(agent, "today", now=NOW)["sla"]["achieved"] == [1]
    assert dashboard_data(AdminFactory(), "today", now=NOW)["sla"]["achieved"] == [3]


def test_no_sla_policy_no_sla_figures(run_signals, agent):  # noqa: F811
    ticket = opened(run_signals, NOW - timedelta(hours=2), group=None)
    reply(run_signals, ticket, agent, NOW - timedelta(hours=1))
    assert dashboard_data(AdminFactory(), "today", now=NOW)["sla"] == {"labels": [], "achieved": [], "breached": []}
