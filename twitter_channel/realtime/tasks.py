"""Celery tasks of the push path: process recorded events, sweep up what a dead worker left,
and (un)subscribe accounts with X outside the request that asked for it."""

from __future__ import annotations

import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from ..models import XAccount
from . import intake, requester_profiles, subscriptions, watch
from .models import ActivityEvent

# Seconds one processing task runs before handing over to a fresh one.
PROCESS_TIME_BUDGET = 5.0
# Seconds a queued processing task waits before its first claim. Deliveries meanwhile queue no
# other task (the mark stands) and their events join its first batch: a batch's conversion
# costs tens of milliseconds whatever its size, so under a burst this is what keeps the
# worker's CPU per event low; when it is quiet it adds this much to post-to-ticket.
PROCESS_LINGER_SECONDS = 0.1


@shared_task
def process_activity_event(event_pk: int | None = None) -> dict | None:
    """Process the recorded events still new, in batches.

    A delivery queues this task unless one is queued already (`intake._process_soon`); the
    task takes every event still new, whichever delivery brought it. (`event_pk`: tasks
    queued by earlier versions named the event they were queued for.)"""
    if event_pk is not None and not ActivityEvent.objects.filter(pk=event_pk, state=ActivityEvent.State.NEW).exists():
        return None
    if not process_activity_event.request.is_eager:  # run eagerly, it is inside the delivery X waits for
        time.sleep(PROCESS_LINGER_SECONDS)
    intake.processing_starts()
    stats = intake.process_pending(time_budget=PROCESS_TIME_BUDGET)
    if stats.unfinished:
        # Hand over to a fresh task, so polls and beat's tasks queued meanwhile get their turn.
        process_activity_event.delay()
    return stats.__dict__


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
