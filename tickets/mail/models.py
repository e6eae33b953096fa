"""What email leaves behind besides comments: the raw messages and their attachments.

The models belong to the `tickets` app (tickets/models.py imports them) so they share its
migrations; they live here because only the email channel creates them.
"""

from __future__ import annotations

from django.db import models

from ..outbox import Outbox


class InboundEmail(models.Model):
    """One received message, kept whole, whatever became of it.

    The comment shows the reply without quoted history or signature; this row keeps the
    original for the agent who needs it and for the duplicate check on Message-ID, which
    also covers messages that made no comment (bounces dropped, auto-replies).
    """

    class Outcome(models.TextChoices):
        NEW_TICKET = "new_ticket", "Opened a ticket"
        THREADED = "threaded", "Added to a ticket"
        BOUNCE = "bounce", "Bounce"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        DROPPED = "dropped", "Dropped"
        # Kept raw but not ingested (unreadable, no sender, a failure while routing it);
        # listed for admins on the email quarantine page, where it can be retried.
        QUARANTINED = "quarantined", "Quarantined"

    message_id = models.CharField(max_length=255, unique=True)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    raw = models.FileField(upload_to="email/raw/%Y/%m/")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_emails"
    )
    comment = models.OneToOneField(
        "tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_email"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Why it is quarantined, or what was changed to ingest it (cut headers, NULs removed).
    note = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        app_label = "tickets"
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["-received_at"], condition=models.Q(outcome="quarantined"), name="inboundemail_quarantined"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} from {self.from_address}"


class EmailAttachment(models.Model):
    """A file that came with an email, listed under the comment it belongs to."""

    comment = models.ForeignKey("tickets.Comment", on_delete=models.CASCADE, related_name="email_attachments")
    file = models.FileField(upload_to="email/attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "tickets"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EmailRequest(models.Model):
    """One link asking a requester for an email address (sent by DM, or posted publicly when
    an agent confirmed it). It is bound to the requester it was made for and works once."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="email_requests")
    requester = models.ForeignKey("tickets.Requester", on_delete=models.CASCADE, related_name="email_requests")
    created_by = models.ForeignKey(
        "tickets.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "tickets"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Email request {self.pk} on #{self.ticket_id}"


class EmailConfirmation(models.Model):
    """An address given on the public form, waiting for its owner to click the link mailed
    to it. Until then it is not the requester's: nothing but that mail goes to it."""

    request = models.ForeignKey(EmailRequest, on_delete=models.CASCADE, related_name="confirmations")
    address = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "tickets"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.address} ({'confirmed' if self.confirmed_at else 'waiting'})"


class OutgoingEmail(Outbox):
    """An agent's email reply in the outbox (tickets/outbox.py), one row per comment.

    The comment is the primary key, so the send task, which takes the comment's id, takes
    this row's. The Message-ID (the comment's external id) is fixed before the first
    attempt: a resend after an attempt whose outcome is unknown (SMTP gives no way to ask
    whether a message got through) carries the same Message-ID, which mail clients use to
    show one message, not two."""

    comment = models.OneToOneField(
        "tickets.Comment", primary_key=True, on_delete=models.CASCADE, related_name="outgoing_email"
    )

    class Meta:
        app_label = "tickets"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outgoing_email_due")]

    def __str__(self) -> str:
        return f"Email for comment {self.comment_id} ({self.state})"


class OutgoingNotification(Outbox):
    """A notification email (a trigger's "email the requester" or "email the group"), in the
    outbox like replies: written in the trigger's transaction, swept up if its task is lost.
    Its Message-ID is fixed before the first attempt, so a resend is recognisably the same."""

    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    message_id = models.CharField(max_length=255)

    class Meta:
        app_label = "tickets"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outgoing_notification_due")]

    def __str__(self) -> str:
        return f"Notification {self.subject!r} ({self.state})"
