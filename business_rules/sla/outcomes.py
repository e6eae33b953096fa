"""How each service-level target ended: met or breached, and when. What reports count
(the dashboard's "SLA achieved vs breached"), read from the clocks as `refresh` stores them.

A target counts once it is fulfilled (the reply made, the ticket solved): achieved if it was
met in time, breached if not. A ticket's clocks hold the current cycle of each metric, so a
next reply measured again replaces the earlier one: a ticket counts each metric's latest
cycle. Whenever a refresh changes a ticket's outcomes, `sla_outcomes_changed` says so from
inside its transaction, with the outcomes before and after, so counts kept elsewhere move
with the clocks and always equal a recount from the clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

# sender=TicketClocks; kwargs: changes (a list of OutcomeChange).
sla_outcomes_changed = Signal()


@dataclass(frozen=True)
class Outcome:
    metric: str
    ended_at: datetime
    breached: bool


@dataclass(frozen=True)
class OutcomeChange:
    ticket_id: int
    group_id: int | None
    before: frozenset[Outcome]
    after: frozenset[Outcome]


def outcomes(clocks: dict) -> frozenset[Outcome]:
    """The fulfilled targets among stored clocks (`TicketClocks.clocks`, JSON)."""
    found = set()
    for metric, data in (clocks or {}).items():
        ended = data.get("fulfilled_at")
        if ended:
            found.add(Outcome(metric, datetime.fromisoformat(ended), bool(data.get("breached_at"))))
    return frozenset(found)
