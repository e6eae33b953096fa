"""What email leaves behind besides comments: the raw messages and their attachments.

The models belong to the `tickets` app (tickets/models.py imports them) so they share its
migrations; they live here because only the email channel creates them.
"""

from __future__ import annotations

from django.db import models


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

    class Meta:
        app_label = "tickets"
        ordering = ["-received_at"]

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
