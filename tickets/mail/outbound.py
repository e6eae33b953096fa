"""Agents' replies by email: recorded as a queued comment with its outbox row
(`OutgoingEmail`, tickets/outbox.py) in the agent's transaction, sent by a Celery task.

The comment's external id is the Message-ID, chosen before anything is sent, so a retried
task sends the very same message (and the requester's client shows one, not two), and the
requester's reply, which names it in In-Reply-To, threads back to the ticket.

Only one worker sends a given email at a time: the attempt claims the row under its lock
and marks it SENDING first; a second task (a sweep, a redelivery) finding it SENDING and
fresh steps aside. SMTP offers no way to ask whether a message got through, so an attempt
whose worker died mid-conversation is sent again after EMAIL_SEND_STALE_SECONDS, with the
same Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .. import outbox
from ..comments import add_comment
from ..events import announce_delivery
from ..models import Channel, Comment, Ticket, User
from ..outbound import register_sender
from ..outbox import delivery_shown, queue_delivery
from .addresses import email_address_for
from .models import OutgoingEmail
from .tokens import reply_address

log = logging.getLogger(__name__)

# Long threads would grow References without bound; RFC 5322 (3.6.4) allows trimming to
# the first message and the latest ones, which is all that threading needs.
MAX_REFERENCES = 20


class NoEmailAddress(Exception):
    """The requester has no email address to write to."""


class PermanentEmailError(Exception):
    """The message will never go out as it is (refused address, bad configuration)."""


class TransientEmailError(Exception):
    """The mail server is away or busy; trying again later may work."""


def send_email_reply(ticket: Ticket, body: str, *, author: User | None) -> Comment:
    """Store `body` as a public email comment on `ticket`, queued for the requester.

    Raises NoEmailAddress (nothing stored) when the requester has no email identity, and
    `TicketFull` like any agent comment. Delivery happens after commit, in a task; a broker
    that is down then only delays it (the outbox sweeper queues it later).
    """
    if email_address_for(ticket) is None:
        raise NoEmailAddress(f"{ticket.requester} has no email address we may write to yet (none is confirmed).")
    with transaction.atomic():
        comment = add_comment(
            ticket,
            body=body,
            author_user=author,
            is_public=True,
            channel=Channel.EMAIL,
            external_source=Comment.Source.EMAIL,
            external_id=make_msgid(domain=settings.REPLY_EMAIL_DOMAIN),
            delivery=Comment.Delivery.QUEUED,
        )
        OutgoingEmail.objects.create(comment=comment)
        enqueue(comment.pk)
    return comment


def enqueue(comment_id: int, countdown: float | None = None) -> None:
    """Queue the email's delivery after commit, with the task registered for the outbox
    (TicketsConfig.ready)."""
    queue_delivery(OutgoingEmail, comment_id, countdown=countdown)


def retry(comment_id: int) -> bool:
    """A person's "retry": queue an email that failed (or whose attempt never answered)
    again, with its attempts counted afresh."""
    stale = timezone.now() - timedelta(seconds=settings.EMAIL_SEND_STALE_SECONDS)
    with transaction.atomic():
        row = OutgoingEmail.objects.select_for_update().filter(pk=comment_id).first()
        if row is None:
            return False
        if not row.requeue(stale_before=stale):
            return False
        _show(row)
        enqueue(row.pk)
    return True


def _send_via_email(ticket: Ticket, body: str, author: User | None, **options) -> Comment:
    return send_email_reply(ticket, body, author=author)


def register_email_sender() -> None:
    """Make `tickets.outbound.reply_to_requester` answer email tickets by email (called from
    TicketsConfig.ready, which registers the email outboxes with their tasks too)."""
    register_sender(Channel.EMAIL, _send_via_email)


def thread_message_ids(comment: Comment) -> list[str]:
    """Message-IDs of the ticket's earlier emails, in and out, oldest first."""
    return list(
        Comment.objects.filter(
            ticket_id=comment.ticket_id,
            external_source=Comment.Source.EMAIL,
            external_id__isnull=False,
            pk__lt=comment.pk,
        )
        .order_by("pk")
        .values_list("external_id", flat=True)
    )


def build_message(comment: Comment, to: str) -> EmailMessage:
    ticket = comment.ticket
    previous = thread_message_ids(comment)
    headers = {"Message-ID": comment.external_id}
    subject = f"[#{ticket.pk}] {ticket.subject}"
    if previous:
        references = previous if len(previous) <= MAX_REFERENCES else [previous[0], *previous[-MAX_REFERENCES + 1 :]]
        headers["In-Reply-To"] = previous[-1]
        headers["References"] = " ".join(references)
        subject = f"Re: {subject}"
    return EmailMessage(
        subject=subject,
        body=comment.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[reply_address(ticket.pk)],
        headers=headers,
    )


State = OutgoingEmail.State


@dataclass(frozen=True)
class Delivery:
    """What one call of `deliver` ended with; `retry_in` (seconds) when it should run again."""

    state: str
    retry_in: float | None = None


def deliver(comment_id: int) -> Delivery:
    """One attempt at sending a queued email comment, recorded on its outbox row and comment."""
    row = _claim(comment_id)
    if row is None:
        state = OutgoingEmail.objects.filter(pk=comment_id).values_list("state", flat=True).first()
        return Delivery(state or "missing")
    comment = row.comment
    to = email_address_for(comment.ticket)
    try:
        if to is None:
            raise PermanentEmailError("The requester no longer has an email address.")
        try:
            build_message(comment, to).send(fail_silently=False)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise classify_smtp_error(exc) from exc
    except PermanentEmailError as exc:
        return _settle(row, State.FAILED, str(exc))
    except TransientEmailError as exc:
        if row.attempts >= settings.EMAIL_SEND_MAX_ATTEMPTS:
            return _settle(row, State.FAILED, f"Gave up retrying after {row.attempts} attempts: {exc}")
        # 1, 2, 4, 8, 16 minutes by default: rides out a mail server restart without hammering it.
        wait = settings.EMAIL_SEND_BACKOFF_SECONDS * 2 ** (row.attempts - 1)
        _settle(row, State.QUEUED, str(exc), next_attempt_in=wait)
        return Delivery(State.QUEUED, retry_in=wait)
    return _settle(row, State.SENT, "")


def _claim(comment_id: int) -> OutgoingEmail | None:
    row = outbox.claim(OutgoingEmail, comment_id, stale_seconds=settings.EMAIL_SEND_STALE_SECONDS,
                       related=("comment__ticket",))
    if row is not None:
        _show(row)
    return row


def classify_smtp_error(exc: Exception) -> Exception:
    """SMTP 5xx answers are final, 4xx and lost connections are worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        reason = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items())
        return (PermanentEmailError if all(c >= 500 for c in codes) else TransientEmailError)(reason)
    if isinstance(exc, smtplib.SMTPResponseException):
        reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        return (PermanentEmailError if exc.smtp_code >= 500 else TransientEmailError)(reason)
    if isinstance(exc, ValueError):  # a header the email library refuses
        return PermanentEmailError(str(exc))
    return TransientEmailError(str(exc) or exc.__class__.__name__)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _settle(row: OutgoingEmail, state: str, error: str, *, next_attempt_in: float | None = None) -> Delivery:
    outbox.settle(row, state, error, next_attempt_in=next_attempt_in)
    _show(row)
    if state == State.FAILED:
        log.warning("Email comment %s on ticket #%s failed: %s", row.comment_id, row.comment.ticket_id, error)
    return Delivery(state)


def _show(row: OutgoingEmail) -> None:
    """Mirror the row's state on the comment, which the ticket page shows."""
    shown = delivery_shown(row.state, row.outcome_unknown)
    Comment.objects.filter(pk=row.comment_id).update(delivery=shown, delivery_error=row.error)
    announce_delivery(row.comment_id, None, shown)
