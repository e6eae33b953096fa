from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last sign of life of one kind of process ("beat", "worker"), for /health/."""

    name = models.CharField(max_length=20, primary_key=True)
    at = models.DateTimeField()
    # hostname:pid of the process that stamped last, so an operator sees which one it was.
    by = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
