"""Opening tickets, changing them, and the status moves every support team expects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .events import LOGGED_FIELDS, Actor, label, latest_events, record_changes, ticket_changed
from .models import Channel, Requester, Tag, Ticket, TicketEvent, User

TRACKED_FIELDS = ("subject", "status", "priority", "assignee_id", "group_id", "channel", "x_account_id")


def open_ticket(
    *,
    requester: Requester,
    subject: str,
    channel: str = Channel.WEB,
    actor: User | None = None,
    notify: bool = True,
    **fields: Any,
) -> Ticket:
    """Create a ticket. Its first comment is added separately with `add_comment`
    (or both at once with `tickets.comments.open_ticket_with_comment`)."""
    fields.setdefault("status_changed_at", timezone.now())
    ticket = Ticket.objects.create(requester=requester, subject=clean_subject(subject), channel=channel, **fields)
    if notify:
        transaction.on_commit(
            lambda: ticket_changed.send(
                sender=Ticket,
                ticket=ticket,
                created=True,
                changes={},
                comment=None,
                actor=actor,
                by=Actor.of(actor),
                events=[],
            )
        )
    return ticket


def clean_subject(subject: str) -> str:
    return " ".join(subject.split())[:255] or "(no subject)"


def open_follow_up(ticket: Ticket) -> Ticket:
    """A new ticket continuing `ticket`, which is closed or full and cannot take more."""
    return open_ticket(
        requester=ticket.requester,
        subject=ticket.subject,
        channel=ticket.channel,
        x_account=ticket.x_account,
        group=ticket.group,
        follow_up_of=ticket,
    )


def apply_status(ticket: Ticket, status: str) -> None:
    """Set the status and keep `solved_at` and `status_changed_at` true to it."""
    if status == ticket.status:
        return
    ticket.status = status
    ticket.status_changed_at = timezone.now()
    if status == Ticket.Status.SOLVED:
        ticket.solved_at = ticket.status_changed_at
    elif status != Ticket.Status.CLOSED:
        ticket.solved_at = None


def snapshot(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in TRACKED_FIELDS}


def diff(before: dict[str, Any], ticket: Ticket) -> dict[str, tuple[Any, Any]]:
    return {name: (old, getattr(ticket, name)) for name, old in before.items() if getattr(ticket, name) != old}


class EditConflict(Exception):
    """Someone else changed a field, since the caller's page was drawn, to another value than
    the one the caller asks for: nothing was saved."""

    def __init__(self, ticket: Ticket, conflicts: list[Conflict]):
        self.ticket = ticket
        self.conflicts = conflicts
        super().__init__("; ".join(c.describe() for c in conflicts))


@dataclass(frozen=True)
class Conflict:
    field: str  # a Ticket attribute, as in TRACKED_FIELDS
    seen: Any  # what the caller's page showed
    current: Any  # what the ticket holds now
    wanted: Any  # what the caller asked for
    event: TicketEvent | None  # the logged change that moved it on, if any

    def describe(self) -> str:
        name = Ticket._meta.get_field(self.field.removesuffix("_id")).verbose_name.capitalize()
        yours = f"your {label(self.field, self.wanted)} was not saved"
        if self.event is None or self.event.new_value != self.current:
            # Changed by a path that keeps no log (a raw update): say what it is now.
            return f"{name} was changed to {label(self.field, self.current)} meanwhile; {yours}."
        e = self.event
        who = e.actor_name or e.get_actor_kind_display()
        if e.actor_kind not in (TicketEvent.ActorKind.AGENT, TicketEvent.ActorKind.SYSTEM):
            who = f"{e.get_actor_kind_display()} “{who}”"
        at = timezone.localtime(e.created_at)
        when = at.strftime("%H:%M:%S" if at.date() == timezone.localdate() else "%Y-%m-%d %H:%M")
        return f"{name}: {who} changed it from {e.old_label} to {e.new_label} at {when}; {yours}."


def find_conflicts(ticket: Ticket, expected: dict[str, Any], wanted: dict[str, Any]) -> list[Conflict]:
    """Fields of `wanted` that moved on since the caller saw them (`expected`), to a value
    other than the one wanted. `ticket` must be fresh (read under the row lock)."""
    moved = {
        name: value
        for name, value in wanted.items()
        if name in expected and getattr(ticket, name) != expected[name] and getattr(ticket, name) != value
    }
    if not moved:
        return []
    events = latest_events(ticket, [LOGGED_FIELDS[name] for name in moved if name in LOGGED_FIELDS])
    return [
        Conflict(name, expected[name], getattr(ticket, name), value, events.get(LOGGED_FIELDS.get(name, "")))
        for name, value in moved.items()
    ]


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    *,
    actor: Actor | User | None = None,
    tags: Iterable[str] | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    expected: dict[str, Any] | None = None,
    field_actors: dict[str, Actor] | None = None,
    notify: bool = True,
    **fields: Any,
) -> dict[str, tuple[Any, Any]]:
    """Change fields and tags, log each change, and return what changed.

    The ticket is read afresh under its row lock and only the fields asked for are written,
    so whatever moved on meanwhile (another agent's edit, a trigger, a message reopening
    the ticket, the comment count) stays as it is. `tags` replaces the tags; `add_tags` and
    `remove_tags` change only those, leaving tags others set meanwhile alone.

    `expected` holds, for fields the caller changes, the values its page showed (Ticket
    attribute names: "priority", "assignee_id"...): if someone changed one of those fields
    since, to another value than the one asked for, `EditConflict` is raised and nothing
    is saved. `actor` is the agent (a User) or any other `Actor`; `field_actors` credits
    some fields to another actor in the log.
    """
    by = Actor.of(actor)
    # Locks the row and reloads the caller's instance: what it held may be a page old.
    ticket.refresh_from_db(from_queryset=Ticket.objects.select_for_update())
    if ticket.status == Ticket.Status.CLOSED and fields.get("status", Ticket.Status.CLOSED) != Ticket.Status.CLOSED:
        raise ValueError("A closed ticket cannot be reopened; open a follow-up instead.")
    if expected:
        conflicts = find_conflicts(ticket, expected, {_attname(name): _pk(value) for name, value in fields.items()})
        if conflicts:
            raise EditConflict(ticket, conflicts)
    before = snapshot(ticket)
    status = fields.pop("status", None)
    for name, value in fields.items():
        setattr(ticket, name, value)
    if status is not None:
        apply_status(ticket, status)
    changes = diff(before, ticket)
    add_tags, remove_tags = _tag_names(add_tags), _tag_names(remove_tags)
    if tags is not None or add_tags or remove_tags:
        old_tags = set(ticket.tags.values_list("name", flat=True))
        new_tags = _tag_names(tags) if tags is not None else (old_tags | add_tags) - remove_tags
        if new_tags != old_tags:
            set_tags(ticket, new_tags)
            changes["tags"] = (sorted(old_tags), sorted(new_tags))
    if not changes:
        return changes
    written = [name for name in changes if name != "tags"]
    if "status" in written:
        written += ["solved_at", "status_changed_at"]
    if "assignee_id" in written:
        # "Hours since the assignee's last reply" is about whoever holds the ticket now.
        ticket.assignee_replied_at = None
        written.append("assignee_replied_at")
    # Tags alone are an update too: the queue's "recently updated" should show it.
    ticket.save(update_fields=[*written, "updated_at"])
    events = record_changes(ticket, changes, by=by, field_actors=field_actors)
    if notify:
        transaction.on_commit(
            lambda: ticket_changed.send(
                sender=Ticket,
                ticket=ticket,
                created=False,
                changes=changes,
                comment=None,
                actor=by.user,
                by=by,
                events=events,
            )
        )
    return changes


def _attname(name: str) -> str:
    field = Ticket._meta.get_field(name)
    return field.attname


def _pk(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def _tag_names(names: Iterable[str]) -> set[str]:
    return {t.strip().lower() for t in names if t.strip()}


def set_tags(ticket: Ticket, names: set[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    ticket.tags.set(existing.values())


def set_next_breach_times(due: Mapping[int, datetime | None]) -> None:
    """Store, per ticket id, when its next SLA target breaches (None: none running): the
    queue sorts and badges on it, and business rules' SLA clocks keep it. A bulk UPDATE
    that leaves updated_at alone: a clock moving is not an update by anyone."""
    Ticket.objects.bulk_update([Ticket(pk=pk, next_breach_at=at) for pk, at in due.items()], ["next_breach_at"],
                               batch_size=500)
