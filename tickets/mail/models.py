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
