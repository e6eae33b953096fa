"""What happened to a ticket: the event log, and the signal that tells whoever listens
(business rules, the real-time UI).

Every change of a ticket's properties is written to the log (`TicketEvent`) in the
transaction that makes it, by the same services that send `ticket_changed` once it is
committed: one `Actor` says who made it (an agent, a trigger, the X intake...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import Signal
from django.utils import timezone

from .models import X_CHANNELS, Channel, Comment, Requester, Ticket, TicketEvent, User

# sender=Ticket; kwargs: ticket, created, changes, comment, actor, by, events
# `changes` maps a field name (as in `lifecycle.TRACKED_FIELDS`, plus "tags") to its
# (old, new) values; `comment` is the comment added in the same update, if any; `actor` is
# the agent who made the change (None for anyone else), `by` the full `Actor`, and `events`
# the log rows written for it.
ticket_changed = Signal()

# sender=Ticket; kwargs: opened (a list of `Opened`). Sent once, after commit, for many
# tickets opened together with their first message (`open_tickets_with_comments`, intake at
# volume) in place of one `ticket_changed(created=True)` each: listeners do for all of them
# at once what they do for one (one upsert, one INSERT, one query). Whoever listens to
# `ticket_changed` for new tickets listens to this too.
tickets_opened = Signal()

# sender=Ticket; kwargs: added (a list of `Added`). Sent once, after commit, for many
# requesters' messages added together to tickets that took them as they were
# (`add_messages`, intake at volume: no status moved, nothing logged), in place of one
# `ticket_changed(created=False)` each. Whoever listens to `ticket_changed` listens to this too.
messages_added = Signal()

Kind = TicketEvent.ActorKind


@dataclass(frozen=True)
class Opened:
    """One ticket of `tickets_opened`: as `ticket_changed` would have carried it (created,
    no changes, no agent, no log rows)."""

    ticket: Ticket
    comment: Comment
    by: Actor


@dataclass(frozen=True)
class Added:
    """One message of `messages_added`: as `ticket_changed` would have carried it (not
    created, no changes, the comment, no agent, no log rows)."""

    ticket: Ticket
    comment: Comment
    by: Actor


@dataclass(frozen=True)
class Actor:
    """Who changed a ticket, as the event log records it."""

    kind: str
    user: User | None = None
    name: str = ""
    requester: Requester | None = None

    @classmethod
    def agent(cls, user: User) -> Actor:
        return cls(Kind.AGENT, user, str(user))

    @classmethod
    def trigger(cls, title: str) -> Actor:
        return cls(Kind.TRIGGER, None, title)

    @classmethod
    def automation(cls, title: str) -> Actor:
        return cls(Kind.AUTOMATION, None, title)

    @classmethod
    def system(cls, what: str = "System") -> Actor:
        return cls(Kind.SYSTEM, None, what)

    @classmethod
    def requester_message(cls, requester: Requester, channel: str) -> Actor:
        """A requester's message moved the ticket (reopened it): credited to the intake it
        came through."""
        if channel in X_CHANNELS:
            kind = Kind.X_INTAKE
        elif channel == Channel.EMAIL:
            kind = Kind.EMAIL
        else:
            kind = Kind.REQUESTER
        return cls(kind, None, requester.name, requester)

    @classmethod
    def of(cls, actor: Actor | User | None) -> Actor:
        """Services take a plain user for the common case, an agent at work."""
        if isinstance(actor, Actor):
            return actor
        return cls.agent(actor) if actor is not None else cls.system()


# changes' keys (Ticket attribute names) -> the log's field names
LOGGED_FIELDS = {
    "status": TicketEvent.Field.STATUS,
    "priority": TicketEvent.Field.PRIORITY,
    "assignee_id": TicketEvent.Field.ASSIGNEE,
    "group_id": TicketEvent.Field.GROUP,
    "tags": TicketEvent.Field.TAGS,
    "subject": TicketEvent.Field.SUBJECT,
    "channel": TicketEvent.Field.CHANNEL,
    "x_account_id": TicketEvent.Field.X_ACCOUNT,
}


def record_changes(
    ticket: Ticket,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    by: Actor,
    field_actors: Mapping[str, Actor] | None = None,
    at: datetime | None = None,
) -> list[TicketEvent]:
    """Write one log row per changed field (in the caller's transaction); returns them.

    `field_actors` credits some fields to another actor than `by` (each trigger of a
    cascade for what it set, while the cascade is saved once)."""
    at = at or timezone.now()
    rows = []
    for name, (old, new) in changes.items():
        field = LOGGED_FIELDS.get(name)
        if field is None:
            continue
        actor = (field_actors or {}).get(name, by)
        rows.append(
            TicketEvent(
                ticket=ticket,
                created_at=at,
                actor_kind=actor.kind,
                actor_user=actor.user,
                actor_requester=actor.requester,
                actor_name=actor.name[:255],
                field=field,
                old_value=_data(old),
                new_value=_data(new),
                old_label=label(name, old),
                new_label=label(name, new),
            )
        )
    if rows:
        TicketEvent.objects.bulk_create(rows)
    return rows


def _data(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value)
    return value


def label(name: str, value: Any) -> str:
    """How a person reads a ticket's value: a choice's label, a related row's name."""
    if value is None or value == "":
        return {"assignee_id": "Unassigned", "group_id": "No group", "x_account_id": "None"}.get(name, "")
    if name == "tags":
        return ", ".join(sorted(value)) or "(none)"
    field = Ticket._meta.get_field(name.removesuffix("_id"))
    if field.is_relation:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value} (deleted)"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def latest_events(ticket: Ticket, fields: Iterable[str]) -> dict[str, TicketEvent]:
    """The last logged change of each of these fields (log field names), for telling an agent
    who changed what since their page was drawn."""
    found: dict[str, TicketEvent] = {}
    for field in set(fields):
        event = ticket.events.filter(field=field).order_by("-created_at", "-id").first()
        if event is not None:
            found[field] = event
    return found


# sender=Comment; kwargs: comment_id, ticket_id, delivery. Sent after commit whenever an
# outgoing comment's delivery state changes (pending, sent, failed), by whichever channel.
delivery_changed = Signal()


def announce_delivery(comment_id: int, ticket_id: int | None, delivery: str) -> None:
    """Tell listeners, once the current transaction commits, that a comment's delivery moved
    (`ticket_id` None: looked up then, for callers that only hold the comment's id)."""
    from django.db import transaction

    from .models import Comment

    def send() -> None:
        ticket = ticket_id or Comment.objects.filter(pk=comment_id).values_list("ticket_id", flat=True).first()
        if ticket is not None:
            delivery_changed.send(sender=Comment, comment_id=comment_id, ticket_id=ticket, delivery=delivery)

    transaction.on_commit(send)


# sender=Ticket; kwargs: source, target, by. Sent by `tickets.merging.merge_tickets` inside
# its transaction, both rows locked, before anything moves. Apps that keep rows or counts of
# their own per ticket (the dashboard's rollups) adjust them here: a receiver may return a
# callable, called in the same transaction once the comments have moved (to compare before
# and after).
tickets_merging = Signal()
