"""The agent's saved views: which tickets each queue shows, before any filter.

A queue is a name and a function from (queryset, user) to queryset, so adding one is a line
here and nothing in the views or templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import Ticket, User

UNSOLVED = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING, Ticket.Status.ON_HOLD)
SOLVED_OR_CLOSED = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)


@dataclass(frozen=True)
class Queue:
    label: str
    narrow: Callable[[QuerySet[Ticket], User], QuerySet[Ticket]]
    default_sort: str | None = None  # a filters.SORTS key; None: recently updated first
    # Whether `narrow` depends on who asks beyond what they may see ("Mine"): agents who may see
    # the same tickets share every other view's count (live.audience.view_counts).
    personal: bool = False


QUEUES: dict[str, Queue] = {
    "unassigned": Queue("Unassigned", lambda qs, user: qs.filter(assignee__isnull=True, status__in=UNSOLVED)),
    "mine": Queue("Mine", lambda qs, user: qs.filter(assignee=user, status__in=UNSOLVED), personal=True),
    "open": Queue("All open", lambda qs, user: qs.filter(status__in=UNSOLVED)),
    "breaching": Queue(
        "Breaching within the hour", lambda qs, user: breaching_within(qs, timedelta(hours=1)), default_sort="breach"
    ),
    "solved": Queue("Solved / Closed", lambda qs, user: qs.filter(status__in=SOLVED_OR_CLOSED)),
    "all": Queue("All tickets", lambda qs, user: qs),
}
DEFAULT_QUEUE = "open"


def channel_queue(qs: QuerySet[Ticket], channel: str) -> QuerySet[Ticket]:
    """The "by channel" view: unsolved tickets that came in on one channel."""
    return qs.filter(channel=channel, status__in=UNSOLVED)


def breaching_within(qs: QuerySet[Ticket], span: timedelta) -> QuerySet[Ticket]:
    """Unsolved tickets whose next service-level target falls due within `span`, or is
    already breached (those need the agent first)."""
    return qs.filter(status__in=UNSOLVED, next_breach_at__lt=timezone.now() + span)
