"""The SLA badge for a due time (`Ticket.next_breach_at`), against the time of rendering:
its state, "breached", "soon" (within the hour) or "later", and what it says
(`tickets/_breach_badge.html` draws it on the ticket page, the SLA panel and each queue row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import template
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.timesince import timesince, timeuntil

register = template.Library()

SOON = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Breach:
    state: str  # "breached", "soon" or "later"
    iso: str
    label: str  # the due time in the locale's format
    text: str  # "Breached 2 hours ago" / "Due in 40 minutes"


@register.filter
def breach_state(due) -> str:
    if due is None:
        return ""
    now = timezone.now()
    if due <= now:
        return "breached"
    return "soon" if due - now <= SOON else "later"


@register.filter
def breach(due: datetime | None, now: datetime | None = None, datetime_format: str | None = None) -> Breach | None:
    """The badge for `due`, None without one. (The queue passes one `now` and format for
    all its rows.)"""
    state = breach_state(due)
    if not state:
        return None
    now = now or timezone.now()
    due = timezone.localtime(due)
    text = f"Breached {timesince(due, now)} ago" if state == "breached" else f"Due in {timeuntil(due, now)}"
    label = dateformat.format(due, datetime_format or get_format("DATETIME_FORMAT"))
    return Breach(state=state, iso=due.isoformat(), label=label, text=text)
