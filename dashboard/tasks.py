from __future__ import annotations

from celery import shared_task

from .backlog import take_snapshot


@shared_task
def snapshot_backlog() -> int:
    """Count the backlog for the dashboard (beat, every DASHBOARD_BACKLOG_SECONDS)."""
    return take_snapshot()
