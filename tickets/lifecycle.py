"""Opening tickets, changing them, and the status moves every support team expects."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from .events import ticket_changed
from .models import Channel, Requester, Tag, Ticket, User

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
                sender=Ticket, ticket=ticket, created=True, changes={}, comment=None, actor=actor
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


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    *,
    actor: User | None = None,
    tags: list[str] | None = None,
    notify: bool = True,
    **fields: Any,
) -> dict[str, tuple[Any, Any]]:
    """Change fields (and optionally replace the tags); returns what changed."""
    if ticket.status == Ticket.Status.CLOSED and fields.get("status", Ticket.Status.CLOSED) != Ticket.Status.CLOSED:
        raise ValueError("A closed ticket cannot be reopened; open a follow-up instead.")
    before = snapshot(ticket)
    status = fields.pop("status", None)
    for name, value in fields.items():
        setattr(ticket, name, value)
    if status is not None:
        apply_status(ticket, status)
    changes = diff(before, ticket)
    if "assignee_id" in changes:
        # "Hours since the assignee's last reply" is about whoever holds the ticket now.
        ticket.assignee_replied_at = None
    if changes:
        ticket.save()
    if tags is not None:
        old_tags = set(ticket.tags.values_list("name", flat=True))
        new_tags = {t.strip().lower() for t in tags if t.strip()}
        if old_tags != new_tags:
            set_tags(ticket, new_tags)
            changes["tags"] = (sorted(old_tags), sorted(new_tags))
    if changes and notify:
        transaction.on_commit(
            lambda: ticket_changed.send(
                sender=Ticket, ticket=ticket, created=False, changes=changes, comment=None, actor=actor
            )
        )
    return changes


def set_tags(ticket: Ticket, names: set[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    ticket.tags.set(existing.values())

