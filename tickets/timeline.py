"""The ticket page's timeline: the page of messages shown (`tickets.thread`), with the property changes made
in the same stretch of time interleaved between them.

One query for the changes whatever their number (capped), so the page's query count stays
flat; changes made together (one save, one actor) read as one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page

from .models import Ticket, TicketEvent
from .thread import Message

# More changes than this between two pages of comments are cut to the latest ones.
EVENTS_PER_PAGE = 200


@dataclass
class ChangeSet:
    """Changes made together: same moment, same actor."""

    events: list[TicketEvent] = field(default_factory=list)

    @property
    def first(self) -> TicketEvent:
        return self.events[0]

    @property
    def created_at(self) -> datetime:
        return self.first.created_at

    @property
    def actor_kind(self) -> str:
        return self.first.actor_kind

    @property
    def actor_label(self) -> str:
        """"Maria", or "Trigger: VIP first" for anyone not an agent."""
        e = self.first
        if e.actor_kind == TicketEvent.ActorKind.AGENT:
            return e.actor_name or "An agent"
        kind = e.get_actor_kind_display()
        return f"{kind}: {e.actor_name}" if e.actor_name and e.actor_name != kind else kind

    def joins(self, event: TicketEvent) -> bool:
        e = self.first
        return (event.created_at, event.actor_kind, event.actor_name) == (e.created_at, e.actor_kind, e.actor_name)


@dataclass(frozen=True)
class Entry:
    kind: str  # "comment" or "changes"
    item: Message | ChangeSet


@dataclass
class Timeline:
    entries: list[Entry]
    # Changes in this stretch beyond EVENTS_PER_PAGE, not shown.
    cut: bool = False


def timeline_for(ticket: Ticket, page: Page) -> Timeline:
    comments = list(page.object_list)
    events = ticket.events.order_by("-created_at", "-id")
    # The stretch of time this page covers: from its first comment (from the start for the
    # first page) to the next page's first comment (to now for the newest page).
    if page.has_previous() and comments:
        events = events.filter(created_at__gte=comments[0].created_at)
    if page.has_next():
        next_first = ticket.comments.order_by("created_at", "id").values_list("created_at", flat=True)
        events = events.filter(created_at__lt=next_first[page.end_index()])
    events = list(events[: EVENTS_PER_PAGE + 1])
    cut = len(events) > EVENTS_PER_PAGE
    events = events[:EVENTS_PER_PAGE][::-1]

    sets: list[ChangeSet] = []
    for event in events:
        if sets and sets[-1].joins(event):
            sets[-1].events.append(event)
        else:
            sets.append(ChangeSet([event]))
    # A change at the very moment of a comment (the reply that reopened the ticket) follows it.
    entries = [Entry("comment", c) for c in comments] + [Entry("changes", s) for s in sets]
    entries.sort(key=lambda e: (e.item.created_at, e.kind == "changes"))
    return Timeline(entries, cut)
