"""What compliance changed: one row per post or DM we learnt was deleted on X, whichever
path told us (a pushed `post.delete`, the batch compliance job). It is what the admin's
compliance page counts, and what keeps a deleted post from coming back: an item stored after
its deletion was recorded (X's events are not ordered) is redacted before conversion."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class XDeletion(models.Model):
    class Source(models.TextChoices):
        REALTIME = "realtime", "Real-time event"
        BATCH = "batch", "Batch compliance job"

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
