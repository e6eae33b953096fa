"""Incoming email onto tickets: thread it, or open a ticket, keep the original and its files.

Threading tries, in order: the Message-IDs the mail answers (In-Reply-To, then References)
against the Message-IDs stored on email comments, then the signed reply+<token> address in
To/Cc/Delivered-To. Anything else from a person opens a new email ticket.

Bounces and auto-replies never reach the requester's side of a ticket: on a ticket they
become an internal note (the agent should know the address bounces or the requester is
away, but a vacation message must not reopen a solved ticket, nor answer an answer in a
loop); with no ticket to attach to they are only logged and kept as InboundEmail rows.

Nothing is lost and nothing loops: a message that cannot be read, has no sender to answer,
or fails while being routed is quarantined (kept raw with the reason, listed for admins, who
can retry it), so the MTA or the Maildir run moves on. Only the database being away raises:
then the sender should retry later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils.text import get_valid_filename

from ..comments import TicketFull, add_comment, open_ticket_with_comment
from ..events import announce_delivery
from ..models import Channel, Comment, Ticket
from .addresses import requester_for_address
from .models import EmailAttachment, InboundEmail
from .parsing import Attachment, ParsedEmail, hash_message_id, parse_email
from .tokens import PREFIX, ticket_id_from_address

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # an InboundEmail.Outcome value, or DUPLICATE
    ticket: Ticket | None = None
    comment: Comment | None = None
    reason: str = ""  # why it was quarantined


# The database being away is the one failure worth a retry by the sender; anything else
# about a message will fail the same way every time.
DATABASE_AWAY = (OperationalError, InterfaceError)


def ingest_email(raw: bytes) -> IngestResult:
    """Take one raw RFC 822 message; safe to call again with the same message.

    Returns a quarantined result rather than raising for anything in the message itself."""
    try:
        parsed = parse_email(raw)
    except Exception as exc:  # noqa: BLE001 - whatever the bytes, they are kept, not refused
        log.exception("Email of %d bytes could not be read; quarantined", len(raw))
        return _quarantine_unreadable(raw, f"The message could not be read: {_describe(exc)}")
    if _seen(parsed.message_id):
        log.info("Email %s already received; ignored", parsed.message_id)
        return IngestResult(DUPLICATE)
    with transaction.atomic():
        try:
            # Claiming the Message-ID first makes a concurrent second delivery stop here.
            with transaction.atomic():
                record = InboundEmail.objects.create(
                    message_id=parsed.message_id,
                    from_address=parsed.from_address[:254],
                    subject=parsed.subject,
                    raw=ContentFile(raw, name="message.eml"),
                    outcome=InboundEmail.Outcome.DROPPED,
                )
        except IntegrityError:
            return IngestResult(DUPLICATE)
        return _ingest_into(record, parsed)


def retry_quarantined(record: InboundEmail) -> IngestResult:
    """Ingest a quarantined message again from its raw bytes (after a fix or a raised cap)."""
    with transaction.atomic():
        record = InboundEmail.objects.select_for_update().get(pk=record.pk)
        if record.outcome != InboundEmail.Outcome.QUARANTINED:
            return IngestResult(record.outcome, record.ticket, record.comment)
        record.attempts += 1
        with record.raw.open("rb") as file:
            raw = file.read()
        try:
            parsed = parse_email(raw)
        except Exception as exc:  # noqa: BLE001 - still unreadable: it stays where it is
            log.exception("Quarantined email %s still cannot be read", record.pk)
            return _keep_quarantined(record, f"The message could not be read: {_describe(exc)}")
        return _ingest_into(record, parsed)


def _ingest_into(record: InboundEmail, parsed: ParsedEmail) -> IngestResult:
    """Route a claimed message, in a savepoint: a failure leaves the row quarantined."""
    if not parsed.from_address and not parsed.is_bounce:
        return _keep_quarantined(record, "The message has no sender address to answer.", parsed.changes)
    try:
        with transaction.atomic():
            result = _route(parsed)
            if parsed.changes and result.ticket is not None:
                _note_changes(result.ticket, parsed)
    except DATABASE_AWAY:
        raise
    except Exception as exc:  # noqa: BLE001 - a message we cannot route must not come back forever
        log.exception("Email %s could not be ingested; quarantined", parsed.message_id)
        return _keep_quarantined(record, f"The message could not be ingested: {_describe(exc)}", parsed.changes)
    record.outcome = result.outcome
    record.ticket = result.ticket
    record.comment = result.comment
    record.note = "\n".join(parsed.changes)
    # A message first kept unread has neither yet.
    record.from_address, record.subject = parsed.from_address[:254], parsed.subject
    record.save(update_fields=["outcome", "ticket", "comment", "note", "attempts", "from_address", "subject"])
    return result


def _keep_quarantined(record: InboundEmail, reason: str, changes: list[str] = ()) -> IngestResult:
    record.outcome = InboundEmail.Outcome.QUARANTINED
    record.note = "\n".join([reason, *changes])
    record.save(update_fields=["outcome", "note", "attempts"])
    return IngestResult(InboundEmail.Outcome.QUARANTINED, reason=reason)


def _quarantine_unreadable(raw: bytes, reason: str) -> IngestResult:
    """Keep a message the parser gave up on, keyed on its content's hash: the same bytes
    delivered again are a duplicate, not a second quarantined row."""
    message_id = hash_message_id(raw)
    if InboundEmail.objects.filter(message_id=message_id).exists():
        return IngestResult(DUPLICATE)
    try:
        with transaction.atomic():
            InboundEmail.objects.create(
                message_id=message_id,
                raw=ContentFile(raw, name="message.eml"),
                outcome=InboundEmail.Outcome.QUARANTINED,
                note=reason,
            )
    except IntegrityError:
        return IngestResult(DUPLICATE)
    return IngestResult(InboundEmail.Outcome.QUARANTINED, reason=reason)


def _note_changes(ticket: Ticket, parsed: ParsedEmail) -> None:
    """Tell the agents what was altered, in an internal note (the original stays downloadable)."""
    try:
        add_comment(
            ticket,
            body="This email was changed to be stored:\n" + "\n".join(f"- {c}" for c in parsed.changes),
            is_public=False,
            channel=Channel.EMAIL,
        )
    except TicketFull:
        log.info("No room on ticket #%s for the note on email %s", ticket.pk, parsed.message_id)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _seen(message_id: str) -> bool:
    return (
        InboundEmail.objects.filter(message_id=message_id).exists()
        # Our own outgoing message, copied back to the support address.
        or Comment.objects.filter(external_source=Comment.Source.EMAIL, external_id=message_id).exists()
    )


def _route(parsed: ParsedEmail) -> IngestResult:
    if parsed.is_bounce:
        return _take_bounce(parsed)
    if _is_from_ourselves(parsed.from_address):
        log.warning("Email %s comes from our own address %s; dropped", parsed.message_id, parsed.from_address)
        return IngestResult(InboundEmail.Outcome.DROPPED)
    ticket = find_ticket(parsed)
    if parsed.is_auto_reply:
        return _note_or_drop(
            ticket,
            parsed,
            InboundEmail.Outcome.AUTO_REPLY,
            f"Automatic reply from {parsed.from_address} (not shown to the requester; the status is unchanged):"
            f"\n\n{parsed.reply_text}",
        )
    requester = requester_for_address(parsed.from_address, parsed.from_name)
    outcome = InboundEmail.Outcome.THREADED
    body = parsed.reply_text or ("(attachments only)" if parsed.attachments else "(empty message)")
    if ticket is None:
        # One "created" event that carries the first message, so a trigger on "ticket is
        # created" sees its text, as it does for tickets born on X.
        comment = open_ticket_with_comment(
            requester=requester,
            subject=parsed.subject,
            body=body,
            channel=Channel.EMAIL,
            external_source=Comment.Source.EMAIL,
            external_id=parsed.message_id,
        )
        outcome = InboundEmail.Outcome.NEW_TICKET
    else:
        comment = add_comment(
            ticket,
            body=body,
            author_requester=requester,
            channel=Channel.EMAIL,
            external_source=Comment.Source.EMAIL,
            external_id=parsed.message_id,
        )
    _save_attachments(comment, parsed.attachments)
    # add_comment moves a message for a closed or full ticket onto a follow-up.
    return IngestResult(outcome, comment.ticket, comment)


def find_ticket(parsed: ParsedEmail) -> Ticket | None:
    """The ticket an email answers, or None for a new conversation. Never a ticket of an
    erased requester: whoever answers that old thread starts a new one."""
    ids = parsed.thread_ids
    if ids:
        by_id = dict(
            Comment.objects.filter(
                external_source=Comment.Source.EMAIL, external_id__in=ids, ticket__requester__erased_at=None
            ).values_list("external_id", "ticket_id")
        )
        for message_id in ids:  # the direct parent wins over older references
            if message_id in by_id:
                return Ticket.objects.get(pk=by_id[message_id])
    for address in parsed.recipients:
        ticket_id = ticket_id_from_address(address)
        if ticket_id is not None:
            ticket = Ticket.objects.filter(pk=ticket_id, requester__erased_at=None).first()
            if ticket is not None:
                return ticket
    return None


def _take_bounce(parsed: ParsedEmail) -> IngestResult:
    reason = parsed.bounce_reason or "no reason given"
    bounced = list(
        Comment.objects.filter(
            external_source=Comment.Source.EMAIL, external_id__in=parsed.bounced_message_ids, author_requester=None
        ).select_related("ticket")
    )
    for comment in bounced:
        # The server accepted it, the recipient's did not: the agent must see the reply failed.
        comment.delivery = Comment.Delivery.FAILED
        comment.delivery_error = f"Bounced: {reason}"
        comment.save(update_fields=["delivery", "delivery_error"])
        announce_delivery(comment.pk, comment.ticket_id, comment.delivery)
    ticket = bounced[0].ticket if bounced else find_ticket(parsed)
    return _note_or_drop(
        ticket, parsed, InboundEmail.Outcome.BOUNCE, f"An email to the requester bounced ({parsed.from_address}): {reason}"
    )


def _note_or_drop(ticket: Ticket | None, parsed: ParsedEmail, outcome: str, note: str) -> IngestResult:
    if ticket is None:
        log.info("%s %s from %s matches no ticket; kept, not shown", outcome, parsed.message_id, parsed.from_address)
        return IngestResult(outcome)
    try:
        # No author: an internal note from nobody changes no status (see add_comment).
        comment = add_comment(
            ticket,
            body=note,
            is_public=False,
            channel=Channel.EMAIL,
            external_source=Comment.Source.EMAIL,
            external_id=parsed.message_id,
        )
    except TicketFull:
        log.info("%s %s for full ticket #%s; kept, not shown", outcome, parsed.message_id, ticket.pk)
        return IngestResult(outcome, ticket)
    return IngestResult(outcome, ticket, comment)


def _is_from_ourselves(address: str) -> bool:
    """Mail sent as the helpdesk itself: taking it in would answer ourselves in a loop.
    Only our sending and reply addresses count; colleagues may share the domain."""
    ours = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    local, _, domain = address.rpartition("@")
    return address == ours or (local.startswith(PREFIX + "+") and domain == settings.REPLY_EMAIL_DOMAIN.lower())


def _save_attachments(comment: Comment, attachments: list[Attachment]) -> None:
    if comment.email_attachments.exists():
        return  # a concurrent delivery of the same message got here first
    for attachment in attachments:
        name = _safe_filename(attachment.filename)
        EmailAttachment.objects.create(
            comment=comment,
            file=ContentFile(attachment.content, name=name),
            filename=attachment.filename[:255],
            content_type=attachment.content_type[:255],
            size=len(attachment.content),
        )


def _safe_filename(filename: str) -> str:
    try:
        return get_valid_filename(filename.rpartition("/")[2].rpartition("\\")[2])[:100]
    except SuspiciousFileOperation:  # "..", "." or nothing usable left
        return "attachment"
