"""Bulk actions on the tickets checked in a queue.

Each ticket goes through update_ticket, one by one, rather than a single queryset.update():
the business rules and the live UI listen to ticket_changed, and a bulk solve must tell them
about every ticket it solves. Selections are at most a queue page, so the loop stays short.
The caller passes only tickets the user may see (visible_tickets), so ids from the browser
never reach a ticket outside the user's view.

The queue page may be minutes old: each row posts back the status and assignee it showed,
and a ticket another agent changed since is left as they set it (see `_each`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from .lifecycle import EditConflict, update_ticket
from .models import Ticket, User

# ticket id -> what the queue page showed of it ("status", "assignee_id")
SeenRows = dict[int, dict[str, Any]]


@dataclass
class BulkResult:
    changed: int = 0
    skipped: list[str] = field(default_factory=list)


def bulk_assign(
    tickets: QuerySet[Ticket], assignee: User | None, *, actor: User, seen: SeenRows | None = None
) -> BulkResult:
    return _each(tickets, actor, seen, "assignee_id", assignee=assignee)


def bulk_set_status(tickets: QuerySet[Ticket], status: str, *, actor: User, seen: SeenRows | None = None) -> BulkResult:
    # A closed ticket cannot be reopened: update_ticket says so, and that row is skipped.
    return _each(tickets, actor, seen, "status", status=status)


def bulk_add_tag(tickets: QuerySet[Ticket], tag: str, *, actor: User) -> BulkResult:
    # Adding is never a conflict: the tag joins whatever tags the ticket has by then.
    return _each(tickets, actor, None, "", add_tags=[tag])


def _each(tickets: QuerySet[Ticket], actor: User, seen: SeenRows | None, attribute: str, **change) -> BulkResult:
    """Apply one change to each ticket. `seen` holds what the queue page showed of each row:
    a ticket whose value someone changed since, to another value, is skipped and said so."""
    result = BulkResult()
    for ticket in tickets:
        row = (seen or {}).get(ticket.pk)
        expected = {attribute: row[attribute]} if row is not None and attribute in row else None
        try:
            if update_ticket(ticket, actor=actor, expected=expected, **change):
                result.changed += 1
        except EditConflict as conflict:
            result.skipped.append(f"#{ticket.pk} not changed: {conflict}")
        except ValueError as exc:
            result.skipped.append(f"#{ticket.pk}: {exc}")
    return result


def bulk_delete(tickets: QuerySet[Ticket]) -> int:
    """Delete the tickets and their comments; follow-ups keep living, unlinked."""
    deleted = list(tickets.values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=deleted).delete()
    return len(deleted)
