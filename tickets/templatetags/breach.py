"""The SLA badge's state for a due time (`Ticket.next_breach_at`), against the time of
rendering: "breached", "soon" (within the hour) or "later"."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

register = template.Library()

SOON = timedelta(hours=1)


@register.filter
def breach_state(due) -> str:
    if due is None:
        return ""
    now = timezone.now()
    if due <= now:
        return "breached"
    return "soon" if due - now <= SOON else "later"
