"""Heartbeats of beat and workers: the processes no request ever touches, so nothing else
would notice that they stopped.

Beat stamps "beat" as its scheduler ticks (`StampingScheduler`) and sends the `heartbeat`
task on its schedule; the worker that runs it stamps "worker". A fresh worker stamp proves
the whole chain beat → broker → worker → database; the beat stamp tells, when the worker
stamp is old, whether beat or the workers are the ones down. /health/ reads both.

Two beats at once stamp the same rows: nothing doubles (see README, Operations).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from .models import Heartbeat

log = logging.getLogger(__name__)

BEAT = "beat"
WORKER = "worker"
# A stamp older than this many heartbeat intervals means its process is down.
MISSED_BEATS = 4


def stamp(name: str, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"at": now or timezone.now(), "by": f"{socket.gethostname()}:{os.getpid()}"}
    )


def liveness(now: datetime | None = None) -> dict[str, str]:
    """"ok", or why not, for beat and for the workers."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.HEARTBEAT_SECONDS * MISSED_BEATS)
    stamps = dict(Heartbeat.objects.values_list("name", "at"))
    result = {}
    for name in (BEAT, WORKER):
        at = stamps.get(name)
        if at is None:
            result[name] = "error: never seen"
        elif now - at > limit:
            result[name] = f"error: silent for {int((now - at).total_seconds())} s"
        else:
            result[name] = "ok"
    return result


class StampingScheduler(PersistentScheduler):
    """Celery's default scheduler, stamping the beat heartbeat as it ticks.

    Beat's tick returns how long to sleep before the next due task; capping it at the
    heartbeat interval keeps the stamp fresh even when nothing else is due for a while."""

    _last_stamp = 0.0

    def tick(self, *args, **kwargs) -> float:
        interval = self._beat_interval()
        if time.monotonic() - self._last_stamp >= interval:
            try:
                # Beat holds one connection for days; one the database closed (a restart)
                # is dropped here instead of failing every later stamp.
                close_old_connections()
                stamp(BEAT)
                self._last_stamp = time.monotonic()
            except Exception:  # noqa: BLE001 - the database being away must not stop beat
                log.warning("Could not stamp the beat heartbeat", exc_info=True)
                close_old_connections()
        return min(super().tick(*args, **kwargs), interval)

    @staticmethod
    def _beat_interval() -> float:
        return float(getattr(settings, "HEARTBEAT_SECONDS", 15.0))
