"""Taking a message's text out of the helpdesk when its author deleted it where it came from,
and showing the latest text when they edited it.

A post or DM deleted on X must disappear from everything we keep (X's Developer Agreement:
stored content reflects deletions). Its comment keeps its place, its ids and its date with a
tombstone instead of the text; and the text is also taken out where it was copied: the
ticket's subject (made from the first post), the event log's subject labels, and the emails
of the ticket that quoted it (our mails carry the subject, the requester's client quotes
them back: the email comments, the stored raw messages and their subjects). Agents' own
replies are theirs and stay as written.

The X channel calls these with the texts it held (`twitter_channel.compliance`); nothing
here knows about X.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .mail.scrub import scrub_raw_email
from .models import Comment, CommentRevision, Ticket, TicketEvent

# What a ticket whose subject came from the deleted message is called afterwards.
REDACTED_SUBJECT = "(message deleted by its author)"


def tombstone(where: str, deleted_at: datetime) -> str:
    return f"[Deleted on {where} on {timezone.localtime(deleted_at):%Y-%m-%d %H:%M %Z}]"


def redact_comment(comment: Comment, *, marker: str, texts: Iterable[str], deleted_at: datetime) -> None:
    """Replace `comment`'s text (and its earlier versions) by `marker`, and take `texts`
    (the message's text as it stood, the subject made from it) out of its ticket's copies."""
    texts = [comment.body, *texts, *comment.revisions.values_list("body", flat=True)]
    with transaction.atomic():
        comment.body = marker
        comment.redacted_at = deleted_at
        comment.save(update_fields=["body", "redacted_at"])
        comment.revisions.all().delete()
        scrub_ticket(comment.ticket_id, texts, exclude_comment=comment.pk)


def scrub_ticket(ticket_id: int, texts: Iterable[str], *, exclude_comment: int | None = None,
                 replacement: str = "[deleted]") -> None:
    """Take `texts` out of the ticket's subject, its event log and its requester's emails."""
    texts = [t.strip() for t in texts if t and t.strip()]
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or not texts:
        return
    everything = _fragments(texts)
    subject = ticket.subject
    if subject in texts or any(text in subject for text in everything):
        # The subject was made from the message: it goes, and so do its copies, however short:
        # the log's subject rows and the subject line of our mails ("[#12] <subject>", which
        # the requester's replies quote). Not through update_ticket: its log row would keep
        # the very text being removed.
        Ticket.objects.filter(pk=ticket_id).update(subject=REDACTED_SUBJECT)
        everything = _fragments([*everything, f"[#{ticket_id}] {subject}"], min_length=1)
    else:
        subject = None
    for event in TicketEvent.objects.filter(ticket_id=ticket_id):
        old, new = (
            replacement if label == subject else _replace(label, everything, replacement)
            for label in (event.old_label, event.new_label)
        )
        if (old, new) != (event.old_label, event.new_label):
            if event.field == TicketEvent.Field.SUBJECT:
                event.old_value, event.new_value = old, new
            event.old_label, event.new_label = old, new
            event.save(update_fields=["old_label", "new_label", "old_value", "new_value"])
    # Messages from the requester's side (emails quoting ours, which carried the subject);
    # agents' replies stay as they wrote them.
    requester_side = Comment.objects.filter(ticket_id=ticket_id, author_user__isnull=True).exclude(pk=exclude_comment)
    for comment in requester_side:
        body = _replace(comment.body, everything, replacement)
        if body != comment.body:
            comment.body = body
            comment.save(update_fields=["body"])
    from .mail.models import InboundEmail, OutgoingNotification

    for email in InboundEmail.objects.filter(ticket_id=ticket_id):
        scrub_inbound_email(email, everything, replacement)
    # Notification mails triggers sent (kept in the outbox) carried the subject or the text.
    for text in everything:
        for row in OutgoingNotification.objects.filter(Q(subject__contains=text) | Q(body__contains=text)):
            row.subject, row.body = _replace(row.subject, [text], replacement), _replace(row.body, [text], replacement)
            row.save(update_fields=["subject", "body"])


def scrub_inbound_email(email, texts: list[str], replacement: str) -> None:
    subject = _replace(email.subject, texts, replacement)
    changed = subject != email.subject
    if email.raw:
        with email.raw.open("rb") as f:
            raw = f.read()
        scrubbed = scrub_raw_email(raw, texts, replacement)
        if scrubbed != raw:
            with email.raw.storage.open(email.raw.name, "wb") as f:
                f.write(scrubbed)
    if changed:
        email.subject = subject
        email.save(update_fields=["subject"])


def apply_edit(comment: Comment, *, new_body: str, old_external_id: str, edited_at: datetime | None = None) -> None:
    """The author edited the message: the comment shows `new_body`, the old text is kept."""
    if new_body == comment.body:
        return
    with transaction.atomic():
        CommentRevision.objects.create(
            comment=comment, body=comment.body, external_id=old_external_id, replaced_at=edited_at or timezone.now()
        )
        comment.body = new_body
        comment.save(update_fields=["body"])


# Copies are found by their text: one shorter than this ("ok", "help me") would blank
# unrelated words in other messages, so only the message itself loses it.
MIN_COPY_LENGTH = 12


def _fragments(texts: Iterable[str], min_length: int = MIN_COPY_LENGTH) -> list[str]:
    # Longest first, so a text is replaced whole before a part of it could be.
    found = {t.strip() for t in texts if t and len(t.strip()) >= min_length}
    return sorted(found, key=len, reverse=True)


def _replace(value: str, texts: list[str], replacement: str) -> str:
    for text in texts:
        if text in value:
            value = value.replace(text, replacement)
    return value
