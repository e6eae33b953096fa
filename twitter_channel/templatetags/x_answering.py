"""What the X panels on the ticket page need: the ticket page passes only the ticket."""

from __future__ import annotations

from django import template

from ..replies import reply_choices, thread_participants
from ..reply_models import OutgoingMessage

register = template.Library()


@register.simple_tag
def x_reply_choices(ticket):
    return reply_choices(ticket)


@register.simple_tag
def x_participants(ticket):
    """Others than the requester who posted in the ticket's thread."""
    from tickets.models import Identity

    own = set(Identity.objects.filter(requester_id=ticket.requester_id, kind=Identity.Kind.X)
              .values_list("value", flat=True))
    return thread_participants(ticket, exclude_x_ids=own)


@register.simple_tag
def x_deliveries(ticket, limit: int = 10):
    """The ticket's latest outgoing X messages, newest first."""
    return list(
        OutgoingMessage.objects.filter(comment__ticket=ticket)
        .select_related("account", "comment")
        .order_by("-created_at", "-id")[:limit]
    )


@register.filter
def warning_for(choices, account):
    return choices.warning_for(account)


@register.simple_tag
def x_price_note() -> str:
    """The composer's price note, from the cost meter's own price table (`x_costs`)."""
    from ..x_costs import Kind, usd

    return (f"X bills a post that contains a link (the ticket link too) {usd(Kind.POST_WITH_URL_WRITE)}, "
            f"a post without one {usd(Kind.POST_WRITE)}, a DM {usd(Kind.DM_WRITE)}.")
