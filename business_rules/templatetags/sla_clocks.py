"""The ticket page's SLA panel: the ticket's clocks as rows to display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.utils import timezone

from ..sla.clocks import METRICS
from ..sla.models import TicketClocks

register = template.Library()


@dataclass(frozen=True)
class ClockRow:
    label: str
    state: str  # "running", "paused", "fulfilled"
    breached: bool
    due_at: datetime | None
    fulfilled_at: datetime | None


@register.filter
def sla_clock_rows(ticket) -> list[ClockRow]:
    try:
        clocks = ticket.sla_clocks.as_clocks()
    except TicketClocks.DoesNotExist:
        return []
    now = timezone.now()
    rows = []
    for metric, label in METRICS.items():
        clock = clocks.get(metric)
        if clock is None:
            continue
        state = "fulfilled" if clock.fulfilled_at else "paused" if clock.paused else "running"
        # A clock resumed after breaching is due since it resumed; it is late since it breached.
        due = clock.breached_at or clock.due_at
        rows.append(ClockRow(label, state, clock.breached(now), due, clock.fulfilled_at))
    return rows
