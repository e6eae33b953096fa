"""A requester's rights over their data: an export of everything we hold about them, and
erasure.

Export: one zip with `requester.json` (identities, tickets, comments, emails, event-log
rows, what each channel holds) and the files (raw emails, attachments).

Erase: the person's data is removed or anonymised everywhere, while their tickets stay for
the statistics with an anonymous requester: their messages' text, the subjects, the names,
handles and addresses wherever they were copied (other comments, the event log, raw emails,
the admin's history), their identities (so a later message of theirs starts afresh: a new
requester), the ids that thread a later message onto their old tickets (Message-IDs, post
ids: it opens a new ticket instead), their attachments and raw emails. An `Erasure` row records who did it and when.

Channels hold their own copies (the X channel its raw JSON): they register an exporter and
an eraser here (`register_personal_data`), as senders register with `outbound`.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from .mail.models import EmailAttachment, EmailConfirmation, EmailRequest, InboundEmail, OutgoingNotification
from .mail.scrub import replace_texts
from .models import Comment, CommentRevision, Erasure, Identity, Requester, Ticket, TicketEvent, User

ERASED = "[erased]"
ERASED_MESSAGE = "[Message erased at the requester's request]"
ERASED_SUBJECT = "(erased)"


@dataclass
class PersonalData:
    """What identifies the person, gathered before anything is erased: the texts to take out
    wherever they were copied, and the ids channels know them by."""

    requester: Requester
    texts: list[str]
    identities: list[Identity]
    ticket_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)

    def ids_of(self, kind: str) -> list[str]:
        return [i.value for i in self.identities if i.kind == kind]

    def scrub(self, value: str) -> str:
        return replace_texts(value, self.texts, ERASED) if value else value

    @property
    def mentions(self) -> list[str]:
        """How other people's messages name the person unmistakably: "@handle", an address,
        a full name (a bare first name or handle would blank other people's words)."""
        found = [f"@{i.handle}" for i in self.identities if i.handle]
        found += [i.value for i in self.identities if i.kind == Identity.Kind.EMAIL]
        found += [n for n in (self.requester.name, *(i.display_name for i in self.identities)) if n and " " in n.strip()]
        return sorted(set(found), key=len, reverse=True)

    def scrub_mentions(self, value: str) -> str:
        return replace_texts(value, self.mentions, ERASED) if value else value


Exporter = Callable[[PersonalData], dict[str, Any]]
Eraser = Callable[[PersonalData], None]
_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register_personal_data(name: str, *, exporter: Exporter, eraser: Eraser) -> None:
    _exporters[name] = exporter
    _erasers[name] = eraser


def personal_data(requester: Requester) -> PersonalData:
    identities = list(requester.identities.all())
    confirmations = EmailConfirmation.objects.filter(request__requester=requester).values_list("address", flat=True)
    texts = [requester.name, *(i.value for i in identities if i.kind == Identity.Kind.EMAIL),
             *(f"@{i.handle}" for i in identities if i.handle), *(i.handle for i in identities if i.handle),
             *(i.display_name for i in identities), *confirmations]
    # Long first, so "Ann Smith" goes whole before "Ann" could; very short names are too
    # common a word to replace everywhere.
    texts = sorted({t for t in texts if t and len(t) >= 3}, key=len, reverse=True)
    ticket_ids = list(Ticket.objects.filter(requester=requester).values_list("pk", flat=True))
    return PersonalData(requester, texts, identities, ticket_ids)


# --- export -----------------------------------------------------------------------------------


def export_requester(requester: Requester) -> bytes:
    """A zip of everything we hold about the requester (JSON and files)."""
    data = personal_data(requester)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        document: dict[str, Any] = {
            "exported_at": timezone.now(),
            "requester": {"id": requester.pk, "name": requester.name, "created_at": requester.created_at},
            "identities": [
                {"kind": i.kind, "value": i.value, "handle": i.handle, "display_name": i.display_name,
                 "avatar_url": i.avatar_url, "confirmed_at": i.confirmed_at, "is_primary": i.is_primary}
                for i in data.identities
            ],
            "tickets": [],
            "email_addresses_given": list(
                EmailConfirmation.objects.filter(request__requester=requester).values("address", "created_at",
                                                                                      "confirmed_at")
            ),
        }
        for ticket in Ticket.objects.filter(pk__in=data.ticket_ids).order_by("pk"):
            comments = []
            for comment in ticket.comments.filter(is_public=True).prefetch_related("email_attachments", "revisions"):
                attachments = []
                for attachment in comment.email_attachments.all():
                    name = f"attachments/{attachment.pk}-{attachment.filename}"
                    _add_file(archive, name, attachment.file)
                    attachments.append({"filename": attachment.filename, "file": name})
                comments.append({
                    "id": comment.pk, "created_at": comment.created_at, "author": comment.author_name,
                    "channel": comment.channel, "body": comment.body, "external_id": comment.external_id,
                    "attachments": attachments,
                    "earlier_versions": [r.body for r in comment.revisions.all()],
                })
            emails = []
            for email in ticket.inbound_emails.all():
                name = f"emails/{email.pk}.eml"
                _add_file(archive, name, email.raw)
                emails.append({"message_id": email.message_id, "from": email.from_address, "subject": email.subject,
                               "received_at": email.received_at, "file": name})
            document["tickets"].append({
                "id": ticket.pk, "subject": ticket.subject, "status": ticket.status, "channel": ticket.channel,
                "created_at": ticket.created_at, "comments": comments, "emails": emails,
                "history": [{"at": e.created_at, "by": e.actor_name, "field": e.field, "from": e.old_label,
                             "to": e.new_label} for e in ticket.events.all()],
            })
        for name, exporter in _exporters.items():
            document[name] = exporter(data)
        archive.writestr("requester.json", json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
    return buffer.getvalue()


def _add_file(archive: zipfile.ZipFile, name: str, file) -> None:
    if not file:
        return
    try:
        with file.open("rb") as f:
            archive.writestr(name, f.read())
    except FileNotFoundError:
        archive.writestr(name + ".missing", b"")


# --- erase ------------------------------------------------------------------------------------


def erase_requester(requester: Requester, *, by: User) -> Erasure:
    """Erase the requester's personal data everywhere; their tickets stay, anonymised."""
    data = personal_data(requester)
    files = []
    with transaction.atomic():
        counts = data.counts
        theirs = Comment.objects.filter(Q(author_requester=requester) | Q(ticket_id__in=data.ticket_ids,
                                                                           author_user__isnull=True))
        counts["comments"] = theirs.update(body=ERASED_MESSAGE, external_url="")
        CommentRevision.objects.filter(comment__in=theirs).delete()
        # Agents' replies and notes stay, without the person's name, handle or address.
        for comment in Comment.objects.filter(ticket_id__in=data.ticket_ids, author_user__isnull=False):
            body, error = data.scrub(comment.body), data.scrub(comment.delivery_error)
            if (body, error) != (comment.body, comment.delivery_error):
                Comment.objects.filter(pk=comment.pk).update(body=body, delivery_error=error)
        attachments = EmailAttachment.objects.filter(comment__ticket_id__in=data.ticket_ids)
        files += [a.file for a in attachments]
        counts["attachments"] = attachments.delete()[0]
        emails = InboundEmail.objects.filter(
            Q(ticket_id__in=data.ticket_ids) | Q(from_address__in=data.ids_of(Identity.Kind.EMAIL))
        )
        files += [e.raw for e in emails]
        counts["emails"] = emails.update(from_address="", subject=ERASED_SUBJECT, raw="", note="")
        counts["tickets"] = Ticket.objects.filter(pk__in=data.ticket_ids).update(subject=ERASED_SUBJECT)
        _erase_event_log(data)
        _erase_mentions_elsewhere(data)
        _erase_notifications(data)
        EmailRequest.objects.filter(requester=requester).delete()  # with the addresses given on the form
        _erase_admin_history(data)
        for eraser in _erasers.values():
            eraser(data)
        counts["identities"] = requester.identities.all().delete()[0]
        _cut_threads(data)
        requester.name = f"Erased requester #{requester.pk}"
        requester.erased_at = timezone.now()
        requester.save(update_fields=["name", "erased_at"])
        erasure = Erasure.objects.create(requester_id=requester.pk, erased_by=by, erased_by_name=str(by)[:255],
                                         counts=counts, erased_at=requester.erased_at)
        # Files go once the rows that named them are committed (a rollback keeps them).
        transaction.on_commit(lambda: _delete_files(files))
    return erasure


def _cut_threads(data: PersonalData) -> None:
    """Nothing the person sends later may find its way back to these tickets: a reply to an
    old email names our Message-ID (In-Reply-To, References), a reply on X the post it
    answers, a like the post itself, and each is looked up by the comments' external ids.
    Without those ids a later message opens a new ticket for a new requester; what names
    the ticket itself (the reply+token address, the public page's link) is refused by
    `Requester.erased_at`. Channels drop their own links in their erasers (the X channel
    the DM conversation)."""
    comments = Comment.objects.filter(ticket_id__in=data.ticket_ids)
    comments.exclude(external_id=None).update(external_id=None)
    CommentRevision.objects.filter(comment__in=comments).exclude(external_id="").update(external_id="")


def _erase_event_log(data: PersonalData) -> None:
    TicketEvent.objects.filter(actor_requester=data.requester).update(actor_name="Erased requester")
    for event in TicketEvent.objects.filter(ticket_id__in=data.ticket_ids):
        if event.field == TicketEvent.Field.SUBJECT:
            event.old_value = event.new_value = event.old_label = event.new_label = ERASED_SUBJECT
        else:
            event.old_label, event.new_label = data.scrub(event.old_label), data.scrub(event.new_label)
        event.actor_name = data.scrub(event.actor_name)
        event.save(update_fields=["old_value", "new_value", "old_label", "new_label", "actor_name"])


def _erase_mentions_elsewhere(data: PersonalData) -> None:
    """Other people's tickets that name the person ("ask @zelda", a forwarded address)."""
    for text in data.mentions:
        # icontains: the trigram indexes of search serve these lookups.
        for comment in Comment.objects.filter(body__icontains=text).exclude(ticket_id__in=data.ticket_ids):
            Comment.objects.filter(pk=comment.pk).update(body=data.scrub_mentions(comment.body))
        for ticket in Ticket.objects.filter(subject__icontains=text).exclude(pk__in=data.ticket_ids):
            Ticket.objects.filter(pk=ticket.pk).update(subject=data.scrub_mentions(ticket.subject))
        for event in TicketEvent.objects.filter(Q(old_label__icontains=text) | Q(new_label__icontains=text)):
            event.old_label, event.new_label = data.scrub_mentions(event.old_label), data.scrub_mentions(event.new_label)
            if event.field == TicketEvent.Field.SUBJECT:
                event.old_value, event.new_value = event.old_label, event.new_label
            event.save(update_fields=["old_label", "new_label", "old_value", "new_value"])


def _erase_notifications(data: PersonalData) -> None:
    """Notification emails (the outbox's, kept after sending) addressed to or naming them."""
    query = Q()
    for text in data.texts:
        query |= Q(recipients_text__icontains=text) | Q(subject__icontains=text) | Q(body__icontains=text)
    if not query:
        return
    rows = OutgoingNotification.objects.annotate(recipients_text=Cast("recipients", TextField())).filter(query)
    for row in rows:
        row.recipients = [ERASED if data.scrub(r) != r else r for r in row.recipients]
        row.subject, row.body, row.error = data.scrub(row.subject), data.scrub(row.body), data.scrub(row.error)
        row.save(update_fields=["recipients", "subject", "body", "error"])


def _erase_admin_history(data: PersonalData) -> None:
    """The admin's history shows each change with the row's name and the change message."""
    for entry in LogEntry.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(Requester), object_id=str(data.requester.pk))
        | Q(content_type=ContentType.objects.get_for_model(Ticket), object_id__in=[str(t) for t in data.ticket_ids])
        | Q(content_type=ContentType.objects.get_for_model(Identity),
            object_id__in=[str(i.pk) for i in data.identities])
    ):
        entry.object_repr = data.scrub(entry.object_repr)[:200] or ERASED
        entry.change_message = data.scrub(entry.change_message)
        entry.save(update_fields=["object_repr", "change_message"])


def _delete_files(files) -> None:
    for file in files:
        if file and file.name:
            file.storage.delete(file.name)
