"""Celery tasks of the X channel: thin wrappers around polling, dispatch and conversion.

Beat runs `dispatch_polls` every few seconds; it enqueues `poll_stream` for each due
stream; a poll that stored something enqueues `convert_items`; `sweep_unconverted` runs
now and then to convert anything a dead worker left in state new.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from twitter_channel.accounts.connection import RealtimeUnavailable, app_client, ensure_cursors

# Celery's autodiscovery imports only each app's `tasks` module: the tasks kept in the flows'
# folders (sending, conversion, real-time intake) are registered through these imports.
from twitter_channel.answering.tasks import send_outgoing  # noqa: F401
from twitter_channel.compliance import jobs as compliance_jobs
from twitter_channel.compliance.retention import delete_raw_x_json_before
from twitter_channel.intake import polling
from twitter_channel.intake.tasks import bulk_convert_items, convert_items, enqueue_conversion  # noqa: F401
from twitter_channel.models import IncomingItem, StreamCursor, XAccount
from twitter_channel.realtime.tasks import (  # noqa: F401
    process_activity_event,
    sweep_activity_events,
    sync_requester_profile_subscriptions,
    unsubscribe_account,
    watch_webhook,
)


@shared_task
def dispatch_polls() -> int:
    """Enqueue a poll for every stream whose time has come; returns how many."""
    # Accounts connected since the last tick (or by hand) get their three cursors.
    lacking = XAccount.objects.filter(is_active=True, needs_reconnect=False).annotate(n=Count("cursors")).filter(n__lt=3)
    for account in lacking:
        ensure_cursors(account)
    claimed = claim_due_cursors()
    for account_id, stream in claimed:
        poll_stream.delay(account_id, stream)
    return len(claimed)


def claim_due_cursors(now=None) -> list[tuple[int, str]]:
    """Due cursors, claimed in one transaction so a second dispatcher (or the next tick
    while the poll still waits in the queue) does not enqueue them again. The claim pushes
    next_poll_at ahead by X_POLL_CLAIM_SECONDS: the poll sets the real time when it ends,
    and if its worker died the stream is simply dispatched again after that."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            StreamCursor.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_poll_at__lte=now, account__is_active=True, account__needs_reconnect=False)
            .values_list("pk", "account_id", "stream")
        )
        StreamCursor.objects.filter(pk__in=[pk for pk, _, _ in due]).update(
            claimed_at=now, next_poll_at=now + timedelta(seconds=settings.X_POLL_CLAIM_SECONDS)
        )
    return [(account_id, stream) for _, account_id, stream in due]


@shared_task
def poll_stream(account_id: int, stream: str) -> str:
    try:
        result = polling.poll_stream(account_id, stream)
    except XAccount.DoesNotExist:
        return f"account {account_id} was removed"
    if result.to_convert:
        # The poll has committed what it stored; on_commit still waits for an enclosing
        # transaction, if any, before the conversion tasks can see the items.
        transaction.on_commit(partial(enqueue_conversion, account_id, result.to_convert))
    return str(result)


@shared_task
def sweep_unconverted() -> int:
    """Convert items stored but never converted (their worker died after the poll committed)."""
    cutoff = timezone.now() - timedelta(seconds=settings.X_SWEEP_GRACE_SECONDS)
    stale = IncomingItem.objects.filter(Q(state=IncomingItem.State.NEW) & Q(fetched_at__lte=cutoff))
    accounts = set(stale.values_list("account_id", flat=True).distinct())
    for account_id in accounts:
        convert_items.delay(account_id)
    return len(accounts)


@shared_task
def delete_expired_raw_x_json() -> tuple[int, int]:
    if not settings.RAW_RETENTION_DAYS:
        return 0, 0
    return delete_raw_x_json_before(timezone.now() - timedelta(days=settings.RAW_RETENTION_DAYS))


@shared_task
def start_compliance_jobs() -> int:
    """Daily: ask X which of the posts and accounts we hold changed (compliance.jobs)."""
    try:
        client = app_client()
    except RealtimeUnavailable:
        return 0  # no app bearer token: nothing can be asked
    with client:
        return len(compliance_jobs.start_jobs(client))


@shared_task
def check_compliance_jobs() -> int:
    try:
        client = app_client()
    except RealtimeUnavailable:
        return 0
    with client:
        return compliance_jobs.check_jobs(client)


@shared_task
def prune_cost_seen_items() -> int:
    """X bills an item once per UTC day: the items seen on earlier days are of no more use."""
    from twitter_channel.costs.meter import prune_seen_items

    return prune_seen_items()
