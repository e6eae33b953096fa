"""The one way comments get onto tickets. It alone enforces the comment cap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .events import (
    Actor,
    Added,
    Opened,
    announce_delivery,
    messages_added,
    record_changes,
    ticket_changed,
    tickets_opened,
)
from .lifecycle import apply_status, clean_subject, diff, open_follow_up, snapshot
from .models import Channel, Comment, Requester, Ticket, User
from .search_vectors import insert_new_rows


class TicketFull(Exception):
    """The ticket holds TICKET_COMMENT_LIMIT comments and takes no more from agents."""

    def __init__(self, ticket: Ticket):
        super().__init__(
            f"Ticket #{ticket.pk} has reached the limit of {settings.TICKET_COMMENT_LIMIT:,} comments. "
            "Open a follow-up ticket to continue the conversation."
        )
        self.ticket = ticket


def add_comment(
    ticket: Ticket,
    *,
    body: str,
    author_user: User | None = None,
    author_requester: Requester | None = None,
    is_public: bool = True,
    channel: str | None = None,
    external_source: str = "",
    external_id: str | None = None,
    delivery: str = Comment.Delivery.NONE,
    notify: bool = True,
    known_new: bool = False,
) -> Comment:
    """Add a comment, applying the status moves a reply implies.

    An agent's comment on a full ticket raises `TicketFull`. A requester's message is never
    lost: on a full or closed ticket it opens a linked follow-up and lands there (the
    returned comment's `ticket` says where). A message with an external id already stored
    is returned as it is, so a redelivered tweet or email never doubles.

    `known_new`: the caller has just looked the external id up and found nothing, so the
    lookup is skipped; a copy stored meanwhile still meets the unique constraint below.
    """
    if external_id is not None and not known_new:
        existing = Comment.objects.filter(external_source=external_source, external_id=external_id).first()
        if existing:
            return existing
    with transaction.atomic():
        # The row lock serialises concurrent comments on one ticket, so the cap holds exactly.
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        from_requester = author_user is None and author_requester is not None
        if from_requester and ticket.merged_into_id is not None:
            # Whatever still reaches a merged ticket (its reply-to address, a DM of its
            # conversation) belongs to the one it was merged into.
            ticket = _merge_destination(ticket)
        if ticket.comment_count >= settings.TICKET_COMMENT_LIMIT or (
            from_requester and ticket.status == Ticket.Status.CLOSED
        ):
            if not from_requester:
                raise TicketFull(ticket)
            ticket = _continuation_of(ticket)
        before = snapshot(ticket)
        if is_public and author_user is not None and ticket.status == Ticket.Status.NEW:
            apply_status(ticket, Ticket.Status.OPEN)
        elif from_requester and ticket.status in (Ticket.Status.PENDING, Ticket.Status.SOLVED):
            apply_status(ticket, Ticket.Status.OPEN)
        try:
            with transaction.atomic():
                comment = Comment.objects.create(
                    ticket=ticket,
                    body=body,
                    author_user=author_user,
                    author_requester=author_requester,
                    is_public=is_public,
                    channel=channel or ticket.channel,
                    external_source=external_source,
                    external_id=external_id,
                    delivery=delivery,
                )
        except IntegrityError:
            # Another process stored the same external message between our check and insert.
            return Comment.objects.get(external_source=external_source, external_id=external_id)
        changes = diff(before, ticket)
        ticket.comment_count += 1
        ticket.updated_at = timezone.now()
        if is_public:
            note_public_message(ticket, comment, at=ticket.updated_at)
        ticket.save()
        by = _comment_actor(comment)
        events = record_changes(ticket, changes, by=by, at=ticket.updated_at)
    if notify:
        transaction.on_commit(
            lambda: ticket_changed.send(
                sender=Ticket,
                ticket=ticket,
                created=False,
                changes=changes,
                comment=comment,
                actor=author_user,
                by=by,
                events=events,
            )
        )
    return comment


def open_ticket_with_comment(
    *,
    requester: Requester,
    subject: str,
    body: str,
    channel: str = Channel.WEB,
    comment_channel: str | None = None,
    external_source: str = "",
    external_id: str | None = None,
    notify: bool = True,
    **fields: Any,
) -> Comment:
    """Open a ticket whose first comment is the requester's message, as `open_ticket` then
    `add_comment` would, in two INSERTs and one `ticket_changed` (created, with the comment).

    For intake at volume: nothing is read back and no row is locked, since nobody else can
    see the new ticket yet. It does not look for the external id first: a message already
    stored raises IntegrityError (unique constraint) and nothing is kept, so a caller that
    has not looked the id up itself should use `add_comment`.
    """
    # No savepoint of its own: an IntegrityError undoes the ticket along with the comment
    # through the enclosing atomic block, which the caller needs anyway to recover.
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        ticket = Ticket.objects.create(
            requester=requester,
            subject=clean_subject(subject),
            channel=channel,
            comment_count=1,
            status_changed_at=now,
            requester_replied_at=now,
            **fields,
        )
        comment = Comment.objects.create(
            ticket=ticket,
            body=body,
            author_requester=requester,
            is_public=True,
            channel=comment_channel or channel,
            external_source=external_source,
            external_id=external_id,
        )
    if notify:
        transaction.on_commit(
            lambda: ticket_changed.send(
                sender=Ticket,
                ticket=ticket,
                created=True,
                changes={},
                comment=comment,
                actor=None,
                by=_comment_actor(comment),
                events=[],
            )
        )
    return comment


@dataclass(frozen=True)
class Opening:
    """A ticket to open with its requester's first message (`open_tickets_with_comments`);
    the arguments of `open_ticket_with_comment`, `fields` being the ticket's other fields."""

    requester: Requester
    subject: str
    body: str
    channel: str = Channel.WEB
    comment_channel: str | None = None
    external_source: str = ""
    external_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def open_tickets_with_comments(openings: Sequence[Opening], *, notify: bool = True) -> list[Comment]:
    """Open many tickets, each with its first comment, as `open_ticket_with_comment` does for
    one: two multi-row INSERTs for all of them, announced once after commit (`tickets_opened`)
    instead of a `ticket_changed` each. Returns the comments, in the order of `openings`.

    The same contract about external ids: one already stored raises IntegrityError and
    nothing is kept (the enclosing atomic block undoes the tickets with the comments)."""
    if not openings:
        return []
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        tickets = [
            Ticket(requester=o.requester, subject=clean_subject(o.subject), channel=o.channel, comment_count=1,
                   status_changed_at=now, requester_replied_at=now, **o.fields)
            for o in openings
        ]
        insert_new_rows(tickets)
        comments = [
            Comment(ticket=ticket, body=o.body, author_requester=o.requester, is_public=True,
                    channel=o.comment_channel or o.channel, external_source=o.external_source,
                    external_id=o.external_id)
            for ticket, o in zip(tickets, openings, strict=True)
        ]
        insert_new_rows(comments)
    if notify:
        opened = [Opened(c.ticket, c, _comment_actor(c)) for c in comments]
        transaction.on_commit(lambda: tickets_opened.send(sender=Ticket, opened=opened))
    return comments


@dataclass(frozen=True)
class Message:
    """A requester's public message for `add_messages`: the arguments of `add_comment` for one
    (the ticket by its id: `add_messages` reads the tickets itself, locked)."""

    ticket_id: int
    requester: Requester
    body: str
    channel: str | None = None
    external_source: str = ""
    external_id: str | None = None


# Where a requester's message moves nothing but the ticket's count and times.
TAKES_MESSAGES_AS_THEY_ARE = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.ON_HOLD)


def add_messages(messages: Sequence[Message], *, notify: bool = True) -> list[Comment]:
    """`add_comment` for many requesters' messages at once, in order, whose external ids the
    caller has just looked up (`known_new`); returns their comments, in the order of `messages`.

    Their tickets are locked together, in id order. Messages for a ticket that takes them as
    they are (not merged, not full, not closed, no status to move) go in with one multi-row
    INSERT and one UPDATE of the tickets (per number of messages a ticket gets), announced
    once after commit (`messages_added`) instead of a `ticket_changed` each. Any other goes
    through `add_comment` in its turn (on to a merge's destination or a follow-up, reopening),
    after the messages before it.

    As `open_tickets_with_comments`: an external id already stored raises IntegrityError, and
    the caller's atomic block undoes the lot (`add_comment` would return the stored comment)."""
    comments: list[Comment | None] = [None] * len(messages)
    as_they_are: list[int] = []  # positions in `messages`, not inserted yet
    ids = sorted({m.ticket_id for m in messages})
    with transaction.atomic(savepoint=False):
        tickets = _locked_tickets(ids)
        for position, message in enumerate(messages):
            ticket = tickets[message.ticket_id]
            if (ticket.merged_into_id is None and ticket.status in TAKES_MESSAGES_AS_THEY_ARE
                    and ticket.comment_count < settings.TICKET_COMMENT_LIMIT):
                ticket.comment_count += 1
                as_they_are.append(position)
                continue
            _insert_messages(messages, as_they_are, tickets, comments, notify=notify)
            comments[position] = add_comment(
                ticket, body=message.body, author_requester=message.requester, channel=message.channel,
                external_source=message.external_source, external_id=message.external_id, known_new=True,
                notify=notify,
            )
            # add_comment changed the ticket, or the one it passed the message on to (a merge's
            # destination, which may be another of these): those two are read again, not all.
            changed = [pk for pk in {ticket.pk, comments[position].ticket_id} if pk in tickets]
            tickets.update(_locked_tickets(sorted(changed)))
        _insert_messages(messages, as_they_are, tickets, comments, notify=notify)
    return comments


def _locked_tickets(ids: list[int]) -> dict[int, Ticket]:
    return {ticket.pk: ticket for ticket in Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _insert_messages(messages: Sequence[Message], positions: list[int], tickets: dict[int, Ticket],
                     comments: list[Comment | None], *, notify: bool) -> None:
    """The messages at `positions`, whose tickets (locked, counts already raised in memory)
    take them as they are: one INSERT, and what `add_comment` saves on each ticket."""
    if not positions:
        return
    now = timezone.now()
    inserted = [
        Comment(ticket=tickets[m.ticket_id], body=m.body, author_requester=m.requester, is_public=True,
                channel=m.channel or tickets[m.ticket_id].channel, external_source=m.external_source,
                external_id=m.external_id)
        for m in (messages[p] for p in positions)
    ]
    insert_new_rows(inserted)
    per_ticket = Counter(messages[p].ticket_id for p in positions)
    for n in sorted(set(per_ticket.values())):
        Ticket.objects.filter(pk__in=sorted(pk for pk, k in per_ticket.items() if k == n)).update(
            comment_count=F("comment_count") + n, updated_at=now, requester_replied_at=now)
    for pk in per_ticket:
        tickets[pk].updated_at = tickets[pk].requester_replied_at = now
    for position, comment in zip(positions, inserted, strict=True):
        comments[position] = comment
    positions.clear()
    if notify:
        added = [Added(c.ticket, c, _comment_actor(c)) for c in inserted]
        transaction.on_commit(lambda: messages_added.send(sender=Ticket, added=added))


def show_delivery(comment_id: int, delivery: str, error: str = "") -> None:
    """Mirror where an outgoing comment's delivery stands (`Comment.Delivery`, and why it
    failed or waits) on the comment, which the ticket page shows, and tell the listeners."""
    Comment.objects.filter(pk=comment_id).update(delivery=delivery, delivery_error=error[:2000])
    announce_delivery(comment_id, None, delivery)


def record_sent(comment: Comment, *, note: str = "", external_source: str = "", external_id: str | None = None,
                external_url: str = "") -> None:
    """The comment went out, as `external_id` where the channel gives one: a copy of it
    fetched back later (the channel's echo of our own post) is recognised by that id. The
    caller holds the comment locked; a comment that already holds the id is the caller's to
    retract first (`retract_comment`)."""
    comment.delivery = Comment.Delivery.SENT
    comment.delivery_error = note
    fields = ["delivery", "delivery_error"]
    if external_id:
        comment.external_source = external_source
        comment.external_id = external_id
        comment.external_url = external_url
        fields += ["external_source", "external_id", "external_url"]
    comment.save(update_fields=fields)
    announce_delivery(comment.pk, comment.ticket_id, Comment.Delivery.SENT)


def retract_comment(comment: Comment) -> None:
    """Take back a comment that should not have been added: a channel's copy of a message
    the ticket holds already (the echo of our own post, fetched before we learnt its id). It
    goes with its count, under the ticket's lock as `add_comment` counts, so the cap holds."""
    with transaction.atomic():
        Ticket.objects.select_for_update().filter(pk=comment.ticket_id).values_list("pk", flat=True).first()
        comment.delete()
        Ticket.objects.filter(pk=comment.ticket_id).update(comment_count=F("comment_count") - 1)


def note_public_message(ticket: Ticket, comment: Comment, *, at) -> None:
    """Remember when each side last wrote to the other: a public comment or DM from the
    requester, or one from an agent (and whether that agent is the assignee). Internal
    notes and messages from nobody (triggers' automatic replies) are neither side's."""
    if comment.author_user_id is not None:
        ticket.agent_replied_at = at
        if comment.author_user_id == ticket.assignee_id:
            ticket.assignee_replied_at = at
    elif comment.author_requester_id is not None:
        ticket.requester_replied_at = at


def _comment_actor(comment: Comment) -> Actor:
    """Who a comment's status move is credited to in the log: its agent, or the intake its
    requester's message came through."""
    if comment.author_user is not None:
        return Actor.agent(comment.author_user)
    if comment.author_requester is not None:
        return Actor.requester_message(comment.author_requester, comment.channel)
    return Actor.system()


def _merge_destination(ticket: Ticket) -> Ticket:
    """The ticket a merged one lives on in, locked; merges of merges are followed (a cycle,
    impossible through `tickets.merging`, stops where it started)."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.select_for_update().get(pk=ticket.merged_into_id)
    return ticket


def _continuation_of(ticket: Ticket) -> Ticket:
    """The follow-up that carries on a full or closed ticket: the latest one still taking
    comments, or a new one, so a chatty requester does not spawn a ticket per message."""
    follow_up = (
        Ticket.objects.select_for_update()
        .filter(follow_up_of=ticket, comment_count__lt=settings.TICKET_COMMENT_LIMIT)
        .exclude(status=Ticket.Status.CLOSED)
        .order_by("-pk")
        .first()
    )
    return follow_up or open_follow_up(ticket)
