"""What compliance changed: one row per post or DM we learnt was deleted on X, whichever
path told us (a pushed `post.delete`, the batch compliance job, or, for DMs, which X never
reports, an admin told by the DM's author). It is what the admin's
compliance page counts, and what keeps a deleted post from coming back: an item stored after
its deletion was recorded (X's events are not ordered) is redacted before conversion."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class XDeletion(models.Model):
    class Source(models.TextChoices):
        REALTIME = "realtime", "Real-time event"
        BATCH = "batch", "Batch compliance job"
        # X has no event or job for deleted DMs: an admin records what the author tells us.
        REPORTED = "reported", "Reported by the author"

    x_id = models.CharField(max_length=64)
    is_dm = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=Source.choices)
    deleted_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    items_redacted = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "twitter_channel"
        verbose_name = "deletion on X"
        verbose_name_plural = "deletions on X"
        ordering = ["-recorded_at"]
        constraints = [models.UniqueConstraint(fields=["x_id", "is_dm"], name="unique_x_deletion")]

    def __str__(self) -> str:
        return f"{'DM' if self.is_dm else 'Post'} {self.x_id} deleted on X"


class ComplianceJobRun(models.Model):
    """One batch compliance job we ran at X: the ids we held went up, the changes came back
    and were applied. A failed run is retried by the next check; it never holds up intake."""

    class Type(models.TextChoices):
        TWEETS = "tweets", "Posts"
        USERS = "users", "Accounts"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Ids uploaded, X working"
        APPLIED = "applied", "Changes applied"
        FAILED = "failed", "Failed"

    type = models.CharField(max_length=6, choices=Type.choices)
    x_job_id = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    ids_uploaded = models.PositiveBigIntegerField(default=0)
    changes = models.PositiveBigIntegerField(default=0)
    applied = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # The job's result URL, kept to download again after a failure while X keeps it.
    download_url = models.URLField(max_length=2000, blank=True)
    # One job per type a day: a second beat starting the same day's job finds it taken.
    day = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "twitter_channel"
        verbose_name = "compliance job"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["type", "day"], name="one_compliance_job_per_type_a_day")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} compliance job {self.x_job_id or self.pk} ({self.status})"
