"""What the live workspace keeps in the database.

`LiveEvent` is the bus between processes: whichever process changes a ticket (a Celery
worker converting a mention, the web process saving an agent's edit) writes one row after
its transaction commits, and every web process tails the table and pushes to its own
sockets (live/feed.py). Rows are a few hours of history at most; they carry ids, never
ticket content, which each socket reads fresh under its own user's access rules.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class LiveEvent(models.Model):
    class Kind(models.TextChoices):
        TICKET = "ticket", "Ticket created or changed"
        DELIVERY = "delivery", "Delivery state changed"
        # A sign-in ended (logout, user deactivated, password changed): data names the
        # session (a digest of its key, never the key) or the user whose sockets to close.
        SIGNOFF = "signoff", "Signed off"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # No foreign key: an event about a ticket deleted meanwhile is simply skipped by readers.
    # None for events about no ticket (sign-offs).
    ticket_id = models.BigIntegerField(null=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} #{self.ticket_id} ({self.pk})" if self.ticket_id is not None else f"{self.kind} ({self.pk})"


class FollowedView(models.Model):
    """A queue view an agent asked to be told about: a new ticket there makes a notice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_views")
    view = models.SlugField(max_length=50)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "view"], name="unique_followed_view")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.view}"


class Viewer(models.Model):
    """One open ticket page (one socket): who is looking at which ticket right now.

    In the database rather than in a process's memory, so every web process answers "who has
    this ticket open" alike. A socket that vanished without saying goodbye (its process was
    killed) stops counting once `seen_at` is older than LIVE_SILENCE_SECONDS: every web process
    touches its own sockets' rows each heartbeat and removes the rows nobody touches.
    """

    ticket_id = models.BigIntegerField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} on #{self.ticket_id}"
