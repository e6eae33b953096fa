"""Agents' replies by email: recorded as a pending comment, sent by a Celery task.

The comment's external id is the Message-ID, chosen before anything is sent, so a retried
task sends the very same message (and the requester's client shows one, not two), and the
requester's reply, which names it in In-Reply-To, threads back to the ticket.
"""

from __future__ import annotations

import logging
import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from ..comments import add_comment
from ..events import announce_delivery
from ..models import Channel, Comment, Ticket, User
from ..outbound import register_sender
from .addresses import email_address_for
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
    """Store `body` as a public email comment on `ticket` and send it to the requester.

    Raises NoEmailAddress (nothing stored) when the requester has no email identity, and
    `TicketFull` like any agent comment. Delivery happens after commit, in a task.
    """
    if email_address_for(ticket) is None:
        raise NoEmailAddress(f"{ticket.requester} has no email address yet.")
    comment = add_comment(
        ticket,
        body=body,
        author_user=author,
        is_public=True,
        channel=Channel.EMAIL,
        external_source=Comment.Source.EMAIL,
        external_id=make_msgid(domain=settings.REPLY_EMAIL_DOMAIN),
        delivery=Comment.Delivery.PENDING,
    )
    from .tasks import send_email_comment  # the task module imports this one

    transaction.on_commit(lambda: send_email_comment.delay(comment.pk))
    return comment


def _send_via_email(ticket: Ticket, body: str, author: User | None, **options) -> Comment:
    return send_email_reply(ticket, body, author=author)


def register_email_sender() -> None:
    """Make `tickets.outbound.reply_to_requester` answer email tickets by email.

    Called from TicketsConfig.ready, in web and worker processes alike; importing the task
    module here is what registers `send_email_comment` with the Celery worker, whose
    autodiscovery only looks at `tickets.tasks`.
    """
    from . import tasks  # noqa: F401

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


def deliver(comment_id: int, *, last_attempt: bool) -> None:
    """Send a pending email comment and record the outcome on it.

    Raises TransientEmailError when the server may accept it later and this is not the
    last attempt; otherwise the comment ends up `sent` or `failed` with the reason.
    """
    comment = Comment.objects.select_related("ticket").filter(pk=comment_id).first()
    if comment is None or comment.delivery != Comment.Delivery.PENDING:
        return  # deleted, or already settled by an earlier run of a redelivered task
    to = email_address_for(comment.ticket)
    try:
        if to is None:
            raise PermanentEmailError("The requester no longer has an email address.")
        try:
            build_message(comment, to).send(fail_silently=False)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise _classify(exc) from exc
    except PermanentEmailError as exc:
        _settle(comment, Comment.Delivery.FAILED, str(exc))
        return
    except TransientEmailError as exc:
        if not last_attempt:
            raise
        _settle(comment, Comment.Delivery.FAILED, f"Gave up retrying: {exc}")
        return
    _settle(comment, Comment.Delivery.SENT, "")


def _classify(exc: Exception) -> Exception:
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


def _settle(comment: Comment, delivery: str, error: str) -> None:
    comment.delivery = delivery
    comment.delivery_error = error
    comment.save(update_fields=["delivery", "delivery_error"])
    announce_delivery(comment.pk, comment.ticket_id, delivery)
    if error:
        log.warning("Email comment %s on ticket #%s failed: %s", comment.pk, comment.ticket_id, error)
