"""The backlog chart's figures: unsolved tickets by status, as beat last counted them.

Only this chart reads tickets rather than rollups, and counting every open ticket on each
request does not scale (bench dashboard: 400-600 ms at a million tickets). Beat counts once
per DASHBOARD_BACKLOG_SECONDS for every group at once; a request sums a few rows. Before the
first count (a fresh install, the tests) the tickets are counted directly.
"""

from __future__ import annotations

from collections import Counter

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from tickets.models import Ticket

from .models import BacklogCount
from .rollups import ALL_GROUPS

COUNT_LOCK = 0x6461_7368  # "dash": the advisory lock one backlog count holds
OPEN_STATUSES = [Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING, Ticket.Status.ON_HOLD]


def take_snapshot() -> int | None:
    """Count the unsolved tickets per group and status; returns how many there are, or None
    when another count is running (two beats, or a slow count overtaken by the next tick:
    replacing the rows together would collide)."""
    with transaction.atomic():
        if not _count_lock():
            return None
        now = timezone.now()
        rows = (Ticket.objects.filter(status__in=OPEN_STATUSES).values("group_id", "status")
                .annotate(n=Count("pk")).order_by())
        counts = [BacklogCount(group_id=r["group_id"] or 0, status=r["status"], count=r["n"], taken_at=now)
                  for r in rows]
        # Every status's all-groups total, zeros included: admins read these four rows, and
        # they say that a count was taken even when nothing is unsolved.
        totals: Counter = Counter()
        for c in counts:
            totals[c.status] += c.count
        counts += [BacklogCount(group_id=ALL_GROUPS, status=s, count=totals[s], taken_at=now) for s in OPEN_STATUSES]
        BacklogCount.objects.all().delete()
        BacklogCount.objects.bulk_create(counts)
    return sum(totals.values())


def _count_lock() -> bool:
    """A transaction-level advisory lock (PostgreSQL); SQLite serialises writers itself."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [COUNT_LOCK])
        return cursor.fetchone()[0]


def backlog(groups: list[int] | None) -> dict:
    """Chart data for these groups (None: all; 0 stands for tickets in no group)."""
    rows = BacklogCount.objects.filter(group_id__in=[ALL_GROUPS] if groups is None else groups)
    rows = list(rows.values_list("status", "count", "taken_at"))
    if rows or BacklogCount.objects.exists():
        counts: Counter = Counter()
        for status, n, _ in rows:
            counts[status] += n
        as_of = max((taken for _, _, taken in rows), default=None)
    else:
        counts, as_of = _count_now(groups), timezone.now()
    labels = dict(Ticket.Status.choices)
    return {"labels": [labels[s] for s in OPEN_STATUSES], "data": [counts.get(s, 0) for s in OPEN_STATUSES],
            "as_of": as_of.isoformat() if as_of else None}


def _count_now(groups: list[int] | None) -> Counter:
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    if groups is not None:
        allowed = Q(group_id__in=[g for g in groups if g])
        if 0 in groups:
            allowed |= Q(group__isnull=True)
        tickets = tickets.filter(allowed)
    return Counter(dict(tickets.values_list("status").annotate(n=Count("pk")).values_list("status", "n")))
