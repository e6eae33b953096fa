"""Triggers run on every ticket change the tickets app announces."""

from __future__ import annotations

import logging

from tickets.events import ticket_changed
from tickets.models import Ticket

from .engine import is_running_for, run_triggers

logger = logging.getLogger(__name__)


def on_ticket_changed(sender, *, ticket, created, changes, comment=None, actor=None, **kwargs) -> None:
    if is_running_for(ticket.pk):
        # An effect of the running cascade (a channel's reply sender may add its comment
        # with notifications on): it belongs to the update being handled, not a new one.
        return
    try:
        run_triggers(ticket, created=created, changes=changes, comment=comment, actor=actor)
    except Exception:
        # The change itself is saved already (this runs on commit); a broken trigger must
        # not turn the agent's successful update into an error page.
        logger.exception("Triggers failed on ticket #%s", ticket.pk)


def connect() -> None:
    ticket_changed.connect(on_ticket_changed, sender=Ticket, dispatch_uid="business_rules_triggers")
