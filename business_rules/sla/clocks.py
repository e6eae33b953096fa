"""Service-level clocks: when each target of a ticket's policy falls due, as plain values.

`advance` is the whole decision: given the clocks as they were, what the ticket looks
like now (its status and when each side last wrote) and the policy's targets, it returns
the clocks as they are now. It reads no database and no system clock, so the tests freeze
time by passing it.

The metrics (Zendesk's, as support teams know them):

- first reply: from creation to the first public reply or DM of an agent;
- next reply: from the requester's first message after an agent's reply to the agent's
  next reply;
- periodic update: from each agent reply to the next, while the ticket is unsolved;
- requester wait: time in New or Open, until solved (paused while Pending or On-hold);
- resolution: from creation until solved (paused while Pending).

A clock that runs has a due time; a paused clock keeps the working time it has used; a
fulfilled clock keeps when, and whether it breached. Internal notes fulfil nothing: the
ticket's `agent_replied_at` only moves on public messages (`tickets.comments`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

from .hours import Calendar

FIRST_REPLY = "first_reply"
NEXT_REPLY = "next_reply"
PERIODIC_UPDATE = "periodic_update"
REQUESTER_WAIT = "requester_wait"
RESOLUTION = "resolution"
METRICS = {
    FIRST_REPLY: "First reply",
    NEXT_REPLY: "Next reply",
    PERIODIC_UPDATE: "Periodic update",
    REQUESTER_WAIT: "Requester wait",
    RESOLUTION: "Resolution",
}

UNSOLVED = ("new", "open", "pending", "on_hold")
# Statuses in which each metric's time counts; outside them it pauses (or, once solved,
# is fulfilled).
COUNTS_IN = {
    FIRST_REPLY: UNSOLVED,
    NEXT_REPLY: UNSOLVED,
    PERIODIC_UPDATE: ("new", "open", "on_hold"),
    REQUESTER_WAIT: ("new", "open"),
    RESOLUTION: ("new", "open", "on_hold"),
}


@dataclass(frozen=True)
class TicketFacts:
    status: str
    created_at: datetime
    status_changed_at: datetime | None
    requester_replied_at: datetime | None
    agent_replied_at: datetime | None
    solved_at: datetime | None


@dataclass(frozen=True)
class Clock:
    metric: str
    started_at: datetime
    target_seconds: float
    elapsed: float = 0.0  # working seconds used before `running_since`
    running_since: datetime | None = None
    due_at: datetime | None = None
    fulfilled_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return self.running_since is None and self.fulfilled_at is None

    def breached(self, now: datetime) -> bool:
        return self.breached_at is not None or (self.due_at is not None and self.due_at <= now)

    def to_json(self) -> dict:
        # Not dataclasses.asdict(), which deep-copies every value: a third of a
        # 50,000-ticket recompute went there.
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: (v.isoformat() if isinstance(v, datetime) else v) for name, v in values}

    @classmethod
    def from_json(cls, data: dict) -> Clock:
        dates = ("started_at", "running_since", "due_at", "fulfilled_at", "breached_at")
        return cls(**{k: (datetime.fromisoformat(v) if k in dates and v else v) for k, v in data.items()})


@dataclass(frozen=True)
class Cycle:
    """One measurement of a metric: when it started and, if it is over, when."""

    started_at: datetime
    fulfilled_at: datetime | None


def current_cycle(metric: str, facts: TicketFacts, previous: Clock | None) -> Cycle | None:
    """The cycle the metric measures now, or None when it measures nothing."""
    solved_at = facts.solved_at if facts.status not in UNSOLVED else None
    agent, requester = facts.agent_replied_at, facts.requester_replied_at
    if metric == FIRST_REPLY:
        if agent is None and solved_at is not None:
            return None  # solved without a reply: there is nothing left to answer
        fulfilled = previous.fulfilled_at if previous and previous.fulfilled_at else agent
        return Cycle(facts.created_at, fulfilled)
    if metric == NEXT_REPLY:
        if agent is None:
            return None  # the first reply is first reply time's business
        if requester is not None and requester > agent and solved_at is not None:
            return None  # solved without answering: nothing left to answer
        if requester is not None and requester > agent:
            # The requester wrote since the last reply: the wait began with their first
            # message after it, which an earlier refresh saw as the latest.
            if previous and previous.fulfilled_at is None and previous.started_at > agent:
                return Cycle(previous.started_at, None)
            return Cycle(requester, None)
        if previous and previous.started_at <= agent:
            return Cycle(previous.started_at, previous.fulfilled_at or agent)
        return None
    if metric == PERIODIC_UPDATE:
        if agent is None or solved_at is not None:
            return None
        return Cycle(agent, None)
    # Requester wait and resolution run from creation until solved.
    return Cycle(facts.created_at, solved_at)


def advance(
    previous: dict[str, Clock],
    facts: TicketFacts,
    targets: dict[str, float],
    calendar: Calendar,
    now: datetime,
) -> dict[str, Clock]:
    """The clocks after the ticket came to look like `facts`; `targets` maps a metric to
    its target in seconds (metrics without a target have no clock)."""
    clocks = {}
    for metric, target in targets.items():
        before = previous.get(metric)
        cycle = current_cycle(metric, facts, before)
        if cycle is None:
            continue
        if before is None or before.started_at != cycle.started_at:
            # A new cycle runs from its start; `step` stops it where it already stopped.
            before = Clock(metric, cycle.started_at, target, running_since=cycle.started_at)
        clocks[metric] = step(replace(before, target_seconds=target), cycle, facts, calendar, now)
    return clocks


def step(clock: Clock, cycle: Cycle, facts: TicketFacts, calendar: Calendar, now: datetime) -> Clock:
    counting = cycle.fulfilled_at is None and facts.status in COUNTS_IN[clock.metric]
    if counting:
        # A paused (or reopened) clock resumes when the status moved back.
        running_since = clock.running_since or _bounded(facts.status_changed_at, clock.started_at, now)
        due = calendar.add(running_since, max(clock.target_seconds - clock.elapsed, 0.0))
        return replace(clock, running_since=running_since, due_at=due, fulfilled_at=None)
    if clock.running_since is None:
        return replace(clock, due_at=None, fulfilled_at=cycle.fulfilled_at)
    # Stop: at fulfilment, or when the status moved out of the counting ones.
    stop = cycle.fulfilled_at or _bounded(facts.status_changed_at, clock.running_since, now)
    due = calendar.add(clock.running_since, max(clock.target_seconds - clock.elapsed, 0.0))
    breached_at = clock.breached_at or (due if due is not None and due < stop else None)
    return replace(
        clock,
        elapsed=clock.elapsed + calendar.between(clock.running_since, stop),
        running_since=None,
        due_at=None,
        fulfilled_at=cycle.fulfilled_at,
        breached_at=breached_at,
    )


def _bounded(moment: datetime | None, earliest: datetime, latest: datetime) -> datetime:
    if moment is None:
        return latest
    return min(max(moment, earliest), latest)


def next_breach(clocks: dict[str, Clock]) -> datetime | None:
    """When the ticket's earliest unfulfilled target breaches, or breached: what the queue's
    badge, its "next breach first" sort, the "breaching" view and the SLA conditions read.

    A target that breached stays breached until it is fulfilled, whether its clock runs or
    is paused (a pending ticket whose requester already waited too long is still late), and
    it counts from when it breached: a clock resumed after a pause has a due time of its
    resumption, not of its breach. A fulfilled target, breached or not, is done."""
    moments = [c.breached_at or c.due_at for c in clocks.values() if c.fulfilled_at is None]
    moments = [m for m in moments if m is not None]
    return min(moments) if moments else None
