"""The dashboard's rollups: small counters the charts sum, instead of scanning tickets."""

from __future__ import annotations

from django.db import models


class Rollup(models.Model):
    """How many events of one metric fell in one hour (tickets created) or UTC day (the
    others), for one group and one dimension (a channel, "@account/mode", an agent's id).

    Durations (first reply, resolution, intake lag) are histograms: one row per bucket
    (`bucket` indexes `rollups.BOUNDS[metric]`), so percentiles over any range come from
    summing a few rows. Plain counts have bucket -1. `group_id` 0 is "no group", -1 "every group"
(the sum admins read).
    """

    metric = models.CharField(max_length=20)
    start = models.DateTimeField()
    group_id = models.IntegerField(default=0)
    dim = models.CharField(max_length=100)
    bucket = models.SmallIntegerField(default=-1)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "start", "group_id", "dim", "bucket"],
                                               name="unique_rollup_cell")]
        # Covering: a range of one metric for some groups is read from the index alone.
        indexes = [models.Index(fields=["metric", "group_id", "start"], include=["dim", "bucket", "count"],
                                name="rollup_metric_group_start")]

    def __str__(self) -> str:
        return f"{self.metric} {self.start:%Y-%m-%d %H:%M} g{self.group_id} {self.dim} [{self.bucket}] {self.count}"


class BacklogCount(models.Model):
    """Unsolved tickets per group and status, counted by beat every DASHBOARD_BACKLOG_SECONDS
    (`backlog.take_snapshot`). Counted per request, half a million open tickets took 400 to
    600 ms at a million tickets (bench dashboard), twice the page's whole budget; the chart
    says when it was counted. `group_id` 0 is "no group", -1 every group (what admins read)."""

    group_id = models.IntegerField()
    status = models.CharField(max_length=10)
    count = models.BigIntegerField()
    taken_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group_id", "status"], name="unique_backlog_count")]

    def __str__(self) -> str:
        return f"g{self.group_id} {self.status}: {self.count} at {self.taken_at:%H:%M:%S}"
