"""Business rules follow every ticket change the tickets app announces: the ticket's SLA
clocks first (so triggers' SLA conditions see them current), then the triggers."""

from __future__ import annotations

import logging

from tickets.events import ticket_changed
from tickets.models import Ticket

from .engine import is_running_for, run_triggers
from .sla.refresh import refresh_clocks

logger = logging.getLogger(__name__)


def on_ticket_changed(sender, *, ticket, created, changes, comment=None, actor=None, **kwargs) -> None:
    if is_running_for(ticket.pk):
        # An effect of the running cascade (a channel's reply sender may add its comment
        # with notifications on): it belongs to the update being handled, not a new one.
        return
    _refresh_clocks(ticket)
    try:
        plan = run_triggers(ticket, created=created, changes=changes, comment=comment, actor=actor)
    except Exception:
        # The change itself is saved already (this runs on commit); a broken trigger must
        # not turn the agent's successful update into an error page.
        logger.exception("Triggers failed on ticket #%s", ticket.pk)
        return
    if plan is not None and plan.fired:
        # The triggers' own update is not announced; its priority or status may move clocks.
        _refresh_clocks(ticket)


def _refresh_clocks(ticket: Ticket) -> None:
    try:
        refresh_clocks([ticket.pk])
    except Exception:
        logger.exception("SLA clocks not refreshed on ticket #%s", ticket.pk)


def connect() -> None:
    ticket_changed.connect(on_ticket_changed, sender=Ticket, dispatch_uid="business_rules_triggers")
