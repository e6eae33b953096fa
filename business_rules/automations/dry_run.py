"""What an automation would do if it ran now, without doing it: the tickets its next pass
would act on, and the changes and messages for each."""

from __future__ import annotations

from django.utils import timezone

from tickets.models import Ticket

from ..dry_run import DryRunRow, describe
from ..state import TicketState
from .models import Automation
from .run import candidates, compile_automation


def dry_run(automation: Automation, limit: int = 50) -> list[DryRunRow]:
    compiled = compile_automation(automation)
    ids = [pk for pk, _ in candidates(compiled, timezone.now(), limit)]
    rows = []
    for ticket in Ticket.objects.filter(pk__in=ids).select_related("requester").order_by("pk"):
        state = TicketState(ticket)
        effects: list = []
        compiled.apply(state, effects)
        rows.append(DryRunRow(ticket, True, tuple(describe(state, ticket, effects))))
    return rows
