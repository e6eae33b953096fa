"""Celery tasks of the push path: process recorded events, sweep up what a dead worker left,
and (un)subscribe accounts with X outside the request that asked for it; and the queueing of
that processing for the webhook and the stream consumer (`record_and_queue`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from twitter_channel.intake.tasks import CONVERT_TIME_BUDGET, continue_conversion
from twitter_channel.models import XAccount
from twitter_channel.realtime import intake, requester_profiles, subscriptions, watch
from twitter_channel.realtime.models import ActivityEvent

log = logging.getLogger(__name__)

# Seconds one processing task runs before handing over to a fresh one.
PROCESS_TIME_BUDGET = 5.0


def record_and_queue(body: str, source: str) -> list[ActivityEvent]:
    """Store a delivery's events (`intake.record_events`) and, after commit, queue one
    processing task for them: it takes every event still new, however many came at once."""
    new = intake.record_events(body, source)
    pending = intake.pending_of(new)
    if pending:
        transaction.on_commit(partial(queue_processing, pending[0]))
    return new


def queue_processing(event_pk: int) -> None:
    try:
        # One connection attempt, no retries: X (or the stream) waits for this answer, and
        # nothing is lost without the task. (kombu's defaults retry for about 6 s.)
        with process_activity_event.app.pool.acquire(block=True) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
            process_activity_event.apply_async((event_pk,), connection=connection, retry=False)
    except Exception as exc:  # noqa: BLE001 - kombu raises several kinds for a broker that is away
        # The event is stored and new: sweep_activity_events processes it once beat can
        # reach the broker again.
        log.warning("Event %s stored but not queued (%s); the sweeper will process it", event_pk, exc)


@shared_task
def process_activity_event(event_pk: int | None = None) -> dict | None:
    """Process the recorded events still new, `event_pk`'s among them, in batches.

    One task is queued per recorded event; during a burst the first of them takes the events
    queued behind it in its batches, and the later tasks find theirs done in one query."""
    if event_pk is not None and not ActivityEvent.objects.filter(pk=event_pk, state=ActivityEvent.State.NEW).exists():
        return None
    stats = intake.process_pending(time_budget=PROCESS_TIME_BUDGET, convert_budget=CONVERT_TIME_BUDGET)
    for account_id, conversion in stats.conversions:
        # What a conversion left (its time budget spent, replies waiting for a parent) goes to
        # conversion tasks, as after a poll.
        continue_conversion(account_id, conversion)
    if stats.unfinished:
        # Hand over to a fresh task, so polls and beat's tasks queued meanwhile get their turn.
        process_activity_event.delay()
    return stats.summary()


@shared_task
def sweep_activity_events() -> int:
    """Process events recorded but still new after a grace period (their task was lost, or a
    liked post's lookup failed): the push path's counterpart of `sweep_unconverted`."""
    cutoff = timezone.now() - timedelta(seconds=settings.X_SWEEP_GRACE_SECONDS)
    stale = ActivityEvent.objects.filter(state=ActivityEvent.State.NEW, received_at__lte=cutoff).count()
    if stale:
        process_activity_event.delay()
    return stale


@shared_task
def unsubscribe_account(account_id: int) -> int:
    """After a disconnect: no subscriptions left at X, and the account back on polling."""
    removed = subscriptions.remove_subscriptions(account_id)
    XAccount.objects.filter(pk=account_id).update(intake_mode=XAccount.IntakeMode.POLLING, realtime_since=None)
    return removed


@shared_task
def watch_webhook() -> str:
    return watch.watch_webhook()


@shared_task
def sync_requester_profile_subscriptions() -> dict:
    """Keep X's profile.update subscriptions for requesters with open tickets in step."""
    return requester_profiles.sync_requester_profile_subscriptions().__dict__
