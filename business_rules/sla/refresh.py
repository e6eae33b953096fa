"""Keeping tickets' clocks current: after each change of a ticket, and for every unsolved
ticket when a policy (or its schedule) changes.

Which policy applies is asked of the database in the same query that reads the ticket:
a CASE over the active policies' conditions in position order, whose first matching WHEN
names the policy (`ticket_filters` compiles the conditions). The same query serves one
ticket after an update and 2,000 at a time when recomputing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from tickets.lifecycle import set_next_breach_times
from tickets.models import Ticket

from ..cache import VersionedCache
from ..ticket_filters import conditions_q
from .clocks import UNSOLVED, Clock, TicketFacts, advance, next_breach
from .hours import Calendar
from .models import SlaPolicy, TicketClocks
from .outcomes import OutcomeChange, outcomes, sla_outcomes_changed

logger = logging.getLogger(__name__)

SLA = "sla"
CHUNK = 2000
FACT_COLUMNS = ("status", "created_at", "status_changed_at", "requester_replied_at", "agent_replied_at", "solved_at")


@dataclass(frozen=True)
class CompiledPolicy:
    id: int
    title: str
    matches: Q
    # priority -> metric -> target in seconds
    targets: dict[int, dict[str, float]]
    calendar: Calendar


def load_policies() -> tuple[CompiledPolicy, ...]:
    policies = (
        SlaPolicy.objects.filter(active=True)
        .order_by("position", "id")
        .select_related("schedule")
        .prefetch_related("conditions", "targets", "schedule__intervals", "schedule__holidays")
    )
    compiled = []
    for policy in policies:
        try:
            # Policies take no time conditions, so "now" never shows in their SQL.
            matches = conditions_q(policy.conditions.all(), timezone.now())
        except Exception:
            logger.exception("SLA policy %s (%s) does not compile; skipped", policy.pk, policy.title)
            continue
        if matches is None:
            matches = Q(pk__isnull=False)  # no conditions: every ticket (When() refuses an empty Q)
        targets = {t.priority: t.seconds() for t in policy.targets.all()}
        compiled.append(CompiledPolicy(policy.pk, policy.title, matches, targets, policy.calendar()))
    return tuple(compiled)


# The version is checked on every refresh (one small query), not only every few seconds:
# clocks written under a policy deleted meanwhile would point at a row that is gone.
compiled_policies = VersionedCache(SLA, load_policies)


def refresh_clocks(ticket_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Bring the clocks of these tickets up to date; returns how many tickets' next
    breach moved."""
    ids = list(ticket_ids)
    policies = compiled_policies.get()
    if not ids or not policies and not TicketClocks.objects.filter(ticket_id__in=ids).exists():
        return 0
    now = now or timezone.now()
    tickets = Ticket.objects.filter(pk__in=ids).order_by()
    policy_of = Case(*(When(p.matches, then=Value(p.id)) for p in policies), default=None, output_field=IntegerField())
    rows = list(tickets.annotate(sla_policy=policy_of).values("pk", "priority", "next_breach_at", "sla_policy",
                                                              "group_id", *FACT_COLUMNS))
    by_id = {p.id: p for p in policies}
    existing = {c.ticket_id: c for c in TicketClocks.objects.filter(ticket_id__in=ids)}
    keep, drop, moved, ended = [], [], [], []
    for row in rows:
        policy = by_id.get(row["sla_policy"])
        before = existing.get(row["pk"])
        targets = policy.targets.get(row["priority"], {}) if policy else {}
        stored = {}
        if not targets:
            if before is not None:
                drop.append(row["pk"])
            clocks = {}
        else:
            facts = TicketFacts(**{name: row[name] for name in FACT_COLUMNS})
            clocks = advance(before.as_clocks() if before else {}, facts, targets, policy.calendar, now)
            stored = _as_json(clocks)
            if before is None or before.policy_id != policy.id or before.clocks != stored:
                keep.append(TicketClocks(ticket_id=row["pk"], policy_id=policy.id, clocks=stored))
        was, now_is = outcomes(before.clocks if before else {}), outcomes(stored)
        if was != now_is:
            ended.append(OutcomeChange(row["pk"], row["group_id"], was, now_is))
        due = next_breach(clocks)
        if due != row["next_breach_at"]:
            moved.append((row["pk"], due))
    if not (drop or keep or moved):
        return 0
    with transaction.atomic():
        if drop:
            TicketClocks.objects.filter(ticket_id__in=drop).delete()
        if keep:
            TicketClocks.objects.bulk_create(
                keep, update_conflicts=True, unique_fields=["ticket"], update_fields=["policy", "clocks", "updated_at"]
            )
        if moved:
            set_next_breach_times(dict(moved))
        if ended:
            sla_outcomes_changed.send(sender=TicketClocks, changes=ended)
    return len(moved)


def _as_json(clocks: dict[str, Clock]) -> dict:
    return {metric: clock.to_json() for metric, clock in clocks.items()}


def recompute_open_tickets(*, now: datetime | None = None) -> int:
    """Recompute the clocks of every unsolved ticket (after a policy or schedule changed);
    solved and closed tickets keep the record of how their clocks ended."""
    moved = 0
    for ids in _chunks_of_ids(Ticket.objects.filter(status__in=UNSOLVED)):
        moved += refresh_clocks(ids, now=now)
    return moved


def _chunks_of_ids(queryset) -> Iterator[list[int]]:
    """Ids in chunks, by keyset (`pk > last`), so no chunk costs an OFFSET scan."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]
