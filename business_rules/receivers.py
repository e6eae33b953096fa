"""Business rules follow every ticket change the tickets app announces: the ticket's SLA
clocks first (so triggers' SLA conditions see them current), then the triggers."""

from __future__ import annotations

import logging
from collections import Counter

from tickets.events import messages_added, ticket_changed, tickets_opened
from tickets.models import Ticket

from .engine import is_running_for, run_triggers, run_triggers_on_messages, run_triggers_on_opened
from .sla.refresh import refresh_clocks

logger = logging.getLogger(__name__)


def on_ticket_changed(sender, *, ticket, created, changes, comment=None, actor=None, **kwargs) -> None:
    if is_running_for(ticket.pk):
        # An effect of the running cascade (a channel's reply sender may add its comment
        # with notifications on): it belongs to the update being handled, not a new one.
        return
    _refresh_clocks(ticket.pk)
    try:
        plan = run_triggers(ticket, created=created, changes=changes, comment=comment, actor=actor)
    except Exception:
        # The change itself is saved already (this runs on commit); a broken trigger must
        # not turn the agent's successful update into an error page.
        logger.exception("Triggers failed on ticket #%s", ticket.pk)
        return
    if plan is not None and plan.fired:
        # The triggers' own update is not announced; its priority or status may move clocks.
        _refresh_clocks(ticket.pk)


def on_tickets_opened(sender, *, opened, **kwargs) -> None:
    """Many tickets opened at once (intake at volume): what `on_ticket_changed` does for each,
    with the clocks of all of them refreshed together and the triggers read once."""
    _refresh_clocks(*(o.ticket.pk for o in opened))
    _triggers_then_clocks(run_triggers_on_opened, opened, f"{len(opened)} new tickets")


def on_messages_added(sender, *, added, **kwargs) -> None:
    """Requesters' messages added at once (intake at volume): what `on_ticket_changed` does for
    each, in rounds: the first message of each ticket together (clocks refreshed together,
    tickets and triggers read once), then the second of each, and so on, every round reading
    the tickets afresh, as a message's triggers see what those of the message before made of
    its ticket (and its clocks, refreshed again where they fired)."""
    rounds: list[list] = []
    seen: Counter = Counter()
    for a in added:
        if is_running_for(a.ticket.pk):
            continue
        if seen[a.ticket.pk] == len(rounds):
            rounds.append([])
        rounds[seen[a.ticket.pk]].append(a)
        seen[a.ticket.pk] += 1
    if rounds:
        _refresh_clocks(*(a.ticket.pk for a in rounds[0]))
    for messages in rounds:
        _triggers_then_clocks(run_triggers_on_messages, messages, f"messages to {len(messages)} tickets")


def _triggers_then_clocks(run, changes: list, what: str) -> None:
    """Run the triggers on many tickets' changes at once, then refresh the clocks of the
    tickets where one fired (it may have changed their priority or status)."""
    try:
        plans = run(changes)
    except Exception:
        logger.exception("Triggers failed on %s", what)
        return
    fired = [pk for pk, plan in plans.items() if plan is not None and plan.fired]
    if fired:
        _refresh_clocks(*fired)


def _refresh_clocks(*ticket_ids: int) -> None:
    try:
        refresh_clocks(ticket_ids)
    except Exception:
        logger.exception("SLA clocks not refreshed on tickets %s", ", ".join(f"#{pk}" for pk in ticket_ids[:20]))


def connect() -> None:
    ticket_changed.connect(on_ticket_changed, sender=Ticket, dispatch_uid="business_rules_triggers")
    tickets_opened.connect(on_tickets_opened, sender=Ticket, dispatch_uid="business_rules_triggers_opened")
    messages_added.connect(on_messages_added, sender=Ticket, dispatch_uid="business_rules_triggers_messages")
