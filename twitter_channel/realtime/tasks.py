"""Celery tasks of the push path: process recorded events, sweep up what a dead worker left,
and (un)subscribe accounts with X outside the request that asked for it."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from ..models import XAccount
from . import intake, subscriptions
from .models import ActivityEvent


@shared_task
def process_activity_event(event_pk: int) -> str | None:
    return intake.process_event(event_pk)


@shared_task
def sweep_activity_events() -> int:
    """Process events recorded but still new after a grace period (their task was lost, or a
    liked post's lookup failed): the push path's counterpart of `sweep_unconverted`."""
    cutoff = timezone.now() - timedelta(seconds=settings.X_SWEEP_GRACE_SECONDS)
    pending = list(
        ActivityEvent.objects.filter(state=ActivityEvent.State.NEW, received_at__lte=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in pending:
        process_activity_event.delay(pk)
    return len(pending)


@shared_task
def unsubscribe_account(account_id: int) -> int:
    """After a disconnect: no subscriptions left at X, and the account back on polling."""
    removed = subscriptions.remove_subscriptions(account_id)
    XAccount.objects.filter(pk=account_id).update(intake_mode=XAccount.IntakeMode.POLLING, realtime_since=None)
    return removed
