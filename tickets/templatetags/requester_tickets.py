"""The requester card's list of the requester's other tickets, as far as the agent may see
them (`visible_tickets`): a restricted agent never learns of the others, not even a count."""

from __future__ import annotations

from django import template

from ..access import visible_tickets
from ..models import Ticket

register = template.Library()

SHOWN = 8


@register.simple_tag(takes_context=True)
def other_tickets(context, ticket: Ticket) -> dict:
    """The newest `SHOWN` of them and whether there are more: one query (two for a restricted
    agent, whose reach is read first), whatever the requester's number of tickets."""
    rows = list(
        visible_tickets(context["request"].user)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .only("pk", "subject", "status", "channel", "updated_at")
        .order_by("-updated_at", "-pk")[: SHOWN + 1]
    )
    return {"tickets": rows[:SHOWN], "more": len(rows) > SHOWN}
