"""Counters kept in the database, so every process (gunicorn's workers, Celery workers on
any machine) adds to the same figure and `/metrics` reads one truth."""

from __future__ import annotations

from django.db import models


class MetricCounter(models.Model):
    """One monotonic counter: a metric name and its labels ("account=AcmeHelp,stream=mentions").
    Histograms are kept as their cumulative buckets (label `le`), `_sum` and `_count`."""

    name = models.CharField(max_length=100)
    labels = models.CharField(max_length=300, blank=True)
    value = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "labels"], name="unique_metric_counter")]

    def __str__(self) -> str:
        return f"{self.name}{{{self.labels}}} {self.value}"
