"""Celery tasks of the intake: converting stored items into tickets, after a poll, a push or
an admin's bulk request.

Imported by `twitter_channel/tasks.py` so Celery's autodiscovery (which imports only each app's
`tasks` module) registers them. Their names are those they had where they were first defined:
messages queued by an older release must still find them (CELERY_TASK_ROUTES uses the same names).
"""

from __future__ import annotations

import math

from celery import shared_task
from django.conf import settings

from twitter_channel.intake import bulk_convert, conversion

# Seconds one conversion task runs before handing over to a fresh one, so polls and
# beat's other tasks queued behind it are not starved during a burst.
CONVERT_TIME_BUDGET = 5.0


def enqueue_conversion(account_id: int, new_items: int) -> None:
    """One conversion task, or up to X_CONVERT_PARALLELISM for a burst, so every worker
    process helps; they take disjoint batches (skip_locked)."""
    tasks = max(1, min(settings.X_CONVERT_PARALLELISM, math.ceil(new_items / settings.X_CONVERT_BATCH_SIZE)))
    for _ in range(tasks):
        convert_items.delay(account_id)


@shared_task(name="twitter_channel.tasks.convert_items")
def convert_items(account_id: int | None = None) -> dict:
    stats = conversion.convert_pending(account_id, time_budget=CONVERT_TIME_BUDGET)
    continue_conversion(account_id, stats)
    return stats.__dict__


def continue_conversion(account_id: int | None, stats) -> None:
    """Queue what a conversion run (`stats`) left for later."""
    if stats.unfinished:
        # Hand over to a fresh task: polls queued meanwhile get their turn first.
        convert_items.delay(account_id)
    elif stats.deferred:
        # Replies waiting for a parent another converter holds: look again in a moment.
        convert_items.apply_async((account_id,), countdown=1)


@shared_task(name="twitter_channel.send_tasks.bulk_convert_items")
def bulk_convert_items(bulk_id: int) -> int:
    return bulk_convert.run_bulk_conversion(bulk_id).done
