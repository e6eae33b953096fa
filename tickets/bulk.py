"""Bulk actions on the tickets checked in a queue.

Each ticket goes through update_ticket, one by one, rather than a single queryset.update():
the business rules and the live UI listen to ticket_changed, and a bulk solve must tell them
about every ticket it solves. Selections are at most a queue page, so the loop stays short.
The caller passes only tickets the user may see (visible_tickets), so ids from the browser
never reach a ticket outside the user's view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from .lifecycle import update_ticket
from .models import Ticket, User


@dataclass
class BulkResult:
    changed: int = 0
    skipped: list[str] = field(default_factory=list)


def bulk_assign(tickets: QuerySet[Ticket], assignee: User | None, *, actor: User) -> BulkResult:
    result = BulkResult()
    for ticket in tickets:
        if update_ticket(ticket, assignee=assignee, actor=actor):
            result.changed += 1
    return result


def bulk_set_status(tickets: QuerySet[Ticket], status: str, *, actor: User) -> BulkResult:
    result = BulkResult()
    for ticket in tickets:
        try:
            changes = update_ticket(ticket, status=status, actor=actor)
        except ValueError as exc:  # a closed ticket cannot be reopened
            result.skipped.append(f"#{ticket.pk}: {exc}")
            continue
        if changes:
            result.changed += 1
    return result


def bulk_add_tag(tickets: QuerySet[Ticket], tag: str, *, actor: User) -> BulkResult:
    result = BulkResult()
    for ticket in tickets.prefetch_related("tags"):
        names = [t.name for t in ticket.tags.all()]
        if tag not in names and update_ticket(ticket, tags=[*names, tag], actor=actor):
            result.changed += 1
    return result


def bulk_delete(tickets: QuerySet[Ticket]) -> int:
    """Delete the tickets and their comments; follow-ups keep living, unlinked."""
    deleted = list(tickets.values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=deleted).delete()
    return len(deleted)
