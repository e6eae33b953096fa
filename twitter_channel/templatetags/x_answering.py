"""What the X panels on the ticket page need: the ticket page passes only the ticket."""

from __future__ import annotations

from django import template

from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.answering.replies import reply_choices_for_page, thread_participants

register = template.Library()


@register.simple_tag
def x_reply_choices(ticket):
    return reply_choices_for_page(ticket)


@register.filter
def applies_to(answer: str, ways: str) -> bool:
    """Whether an input of the composer applies to the way of answering chosen (`answer`:
    "tweet", "dm", "email", "internal"; `ways`: space separated). Before any choice
    (no answer), everything shows."""
    return not answer or answer in ways.split()


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
def x_post_prices() -> dict[str, str]:
    """What X bills for the post being written, from the cost meter's own price table
    (`x/pricing.py`): the composer's price note shows the one that applies."""
    from twitter_channel.x.pricing import Kind, usd

    return {"plain": usd(Kind.POST_WRITE), "with_link": usd(Kind.POST_WITH_URL_WRITE)}
