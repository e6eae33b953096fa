"""What the X panels on the ticket page need: the ticket page passes only the ticket."""

from __future__ import annotations

from django import template

from ..replies import reply_choices
from ..reply_models import OutgoingMessage

register = template.Library()


@register.simple_tag
def x_reply_choices(ticket):
    return reply_choices(ticket)


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
