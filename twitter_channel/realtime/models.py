"""What the X Activity API pushed to us, kept raw before anything else happens, and the
subscriptions we hold with X for each account.

An event is stored once, keyed on X's `event_uuid`: a webhook delivered twice, a replay of a
window we already had, or the same event by webhook and by stream all end on one row. The
items it carries then go through the same exactly-once store as polled items (`store.py`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ActivityEvent(models.Model):
    class Source(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        STREAM = "stream", "Stream"

    class State(models.TextChoices):
        NEW = "new", "New"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"  # an event type or account the helpdesk does not take
        FAILED = "failed", "Failed"  # could not be parsed or stored; kept with the reason

    event_id = models.CharField(max_length=80, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    event_type = models.CharField(max_length=60, blank=True)
    # The user the subscription filtered on (our account's X user id); the account is
    # resolved when the event is processed, not while X waits for the webhook's answer.
    for_user_id = models.CharField(max_length=25, blank=True)
    account = models.ForeignKey(
        "twitter_channel.XAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="activity_events"
    )
    body = models.TextField()  # the raw body (webhook) or line (stream), exactly as received
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    detail = models.TextField(blank=True)
    items_stored = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["id"], condition=Q(state="new"), name="activity_event_pending_idx"),
            models.Index(fields=["account", "-received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type or 'event'} {self.event_id}"


class ActivitySubscription(models.Model):
    """One subscription X holds for one account (an event type, maybe a direction)."""

    account = models.ForeignKey(
        "twitter_channel.XAccount", on_delete=models.CASCADE, related_name="activity_subscriptions"
    )
    subscription_id = models.CharField(max_length=25, unique=True)
    event_type = models.CharField(max_length=60)
    direction = models.CharField(max_length=10, blank=True)
    webhook_id = models.CharField(max_length=25, blank=True)  # empty: delivered on the stream
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["event_type"]

    def __str__(self) -> str:
        return f"{self.account} {self.event_type}"


class WebhookHealth(models.Model):
    """Whether our webhook answers as X would check it, and what was replayed after it did not
    (`watch.watch_webhook`). One row per webhook URL."""

    url = models.URLField(max_length=500, unique=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    # Set while the webhook fails its check: from the last good answer, when X may have started losing events.
    down_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    replayed_from = models.DateTimeField(null=True, blank=True)
    replayed_to = models.DateTimeField(null=True, blank=True)
    replay_job = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = "webhook health"

    def __str__(self) -> str:
        return self.url


class RequesterProfileSubscription(models.Model):
    """One `profile.update.*` subscription X holds for a requester's X account, so their
    name, handle and picture here follow X (`realtime/requester_profiles.py`). Made with the
    app's token (profile events are public) and filtered, as X allows, on one user id each;
    kept only while the requester has a ticket open, within the app's subscription limit."""

    # Empty once the requester was erased: the row only waits for the next sync to delete
    # the subscription at X, and must not name the person meanwhile.
    x_user_id = models.CharField(max_length=25, blank=True)
    event_type = models.CharField(max_length=60)
    subscription_id = models.CharField(max_length=25, unique=True)
    webhook_id = models.CharField(max_length=25, blank=True)  # empty: delivered on the stream
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["x_user_id", "event_type"]
        constraints = [
            models.UniqueConstraint(fields=["x_user_id", "event_type"], condition=~Q(x_user_id=""),
                                    name="one_profile_subscription_per_event"),
        ]

    def __str__(self) -> str:
        return f"X user {self.x_user_id} {self.event_type}"
