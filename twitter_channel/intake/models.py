"""Progress of one "convert these items" request from the incoming stream."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class BulkConversion(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    item_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # Tickets opened; items added to a ticket that existed (a reply in a ticketed thread);
    # items that were on a ticket before the request; items that could not be converted.
    created = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    already_on_ticket = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"item": id, "ticket": id | null, "outcome": "...", "detail": "..."}], in item order.
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Bulk conversion {self.pk}: {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)

    def results_with(self, outcome: str) -> list[dict]:
        return [r for r in self.results if r["outcome"] == outcome]
