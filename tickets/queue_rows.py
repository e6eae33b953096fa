"""The queue's rows as the page draws them (`tickets/_queue_row.html`): each ticket's row
worked out once, in Python, from a ticket read with its requester, assignee, group and tags.

The template then prints plain strings. Drawn through the model, a row cost about 0.3 ms:
the SLA badge's filters, a `reverse()` behind every link, the choice labels looked up field
by field, and every number and date passed through the locale's formats; fifty rows were
half of a queue page's time. The badge is worked out here too (`templatetags.breach`) and
drawn by the include every page shares. The live workspace draws its
rows with the same function, so a row pushed to a socket is the row a reload shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.timesince import timesince

from .models import Channel, Ticket
from .templatetags.breach import Breach, breach

CHANNEL_LABELS = dict(Channel.choices)
STATUS_LABELS = dict(Ticket.Status.choices)
PRIORITY_LABELS = {str(value): label for value, label in Ticket.Priority.choices}
NOBODY = "—"


@dataclass(frozen=True, slots=True)
class Row:
    number: str  # the ticket's id, as text
    url: str
    # What the row shows, so a bulk change leaves alone what another agent changed since:
    # "id:status:assignee id".
    seen: str
    subject: str
    tags: tuple[str, ...]
    requester: str
    channel: str
    channel_label: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    assignee: str
    group: str
    updated_iso: str
    updated_label: str
    updated_ago: str
    breach: Breach | None


def tickets_for_rows(ids: Iterable[int]) -> dict[int, Ticket]:
    """The tickets `ids`, by id, read with what their rows show (requester, assignee, group,
    tags): the queue page and the live workspace read them the same way."""
    return (
        Ticket.objects.filter(pk__in=list(ids))
        .order_by()
        .select_related("requester", "assignee", "group")
        .prefetch_related("tags")
        .in_bulk()
    )


def rows_of(tickets: Iterable[Ticket]) -> list[Row]:
    datetime_format = get_format("DATETIME_FORMAT")
    now = timezone.now()
    return [_row(ticket, now, datetime_format) for ticket in tickets]


def _row(ticket: Ticket, now: datetime, datetime_format: str) -> Row:
    updated = timezone.localtime(ticket.updated_at)
    priority = str(ticket.priority)
    return Row(
        number=str(ticket.pk),
        url=ticket.get_absolute_url(),
        seen=f"{ticket.pk}:{ticket.status}:{'' if ticket.assignee_id is None else ticket.assignee_id}",
        subject=ticket.subject,
        tags=tuple(tag.name for tag in ticket.tags.all()),
        requester=ticket.requester.name,
        channel=ticket.channel,
        channel_label=CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        status=ticket.status,
        status_label=STATUS_LABELS.get(ticket.status, ticket.status),
        priority=priority,
        priority_label=PRIORITY_LABELS.get(priority, priority),
        assignee=str(ticket.assignee) if ticket.assignee_id else NOBODY,
        group=str(ticket.group) if ticket.group_id else NOBODY,
        updated_iso=updated.isoformat(),
        updated_label=dateformat.format(updated, datetime_format),
        updated_ago=timesince(updated, now),
        breach=breach(ticket.next_breach_at, now, datetime_format),
    )

