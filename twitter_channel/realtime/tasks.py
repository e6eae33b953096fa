"""Celery tasks of the push path: process recorded events, sweep up what a dead worker left,
and (un)subscribe accounts with X outside the request that asked for it; and the queueing of
that processing for the webhook and the stream consumer (`record_and_queue`)."""

from __future__ import annotations

import functools
import logging
import time
from datetime import timedelta

import redis
from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from twitter_channel.intake.tasks import CONVERT_TIME_BUDGET, continue_conversion
from twitter_channel.models import XAccount
from twitter_channel.realtime import intake, requester_profiles, subscriptions, watch
from twitter_channel.realtime.models import ActivityEvent

log = logging.getLogger(__name__)

# Seconds one processing task runs before handing over to a fresh one.
PROCESS_TIME_BUDGET = 5.0
# Seconds a queued processing task waits before its first claim. Deliveries meanwhile queue no
# other task (the mark stands) and their events join its first batch: a batch's conversion
# costs tens of milliseconds whatever its size, so under a burst this is what keeps the
# worker's CPU per event low; when it is quiet it adds this much to post-to-ticket.
PROCESS_LINGER_SECONDS = 0.1


def record_and_queue(body: str, source: str) -> list[ActivityEvent]:
    """Store a delivery's events (`intake.record_events`) and, after commit, make sure a
    processing task is queued: it takes every event still new, however many came at once."""
    new = intake.record_events(body, source)
    if intake.pending_of(new):
        transaction.on_commit(queue_processing)
    return new


def processing_queued_key() -> str:
    # Per database: the cache (Redis) may be shared by several installations, tests and benches.
    return f"x-activity-processing-queued:{connection.settings_dict['NAME']}"


# How long "a processing task is queued" stands without the task starting: past it the next
# delivery queues another (the first may have been lost with its broker), and the sweeper is
# the backstop. Short: under a backlog it costs one more publish per interval, no more.
PROCESSING_QUEUED_SECONDS = 2


def _cache_is_shared() -> bool:
    """Whether every web and worker process sees the same cache (Redis in production); a
    process-local cache (development without Redis) could never see the task start."""
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def _mark_add() -> bool:
    """Set the "a processing task is queued" mark unless it is set; whether this call set it."""
    client = _redis_of_the_cache()
    if client is None:
        return cache.add(processing_queued_key(), 1, PROCESSING_QUEUED_SECONDS)
    key = cache.make_and_validate_key(processing_queued_key())
    return bool(client.set(key, 1, nx=True, ex=PROCESSING_QUEUED_SECONDS))  # what RedisCache.add sends


def _mark_delete() -> None:
    client = _redis_of_the_cache()
    if client is None:
        cache.delete(processing_queued_key())
    else:
        client.delete(cache.make_and_validate_key(processing_queued_key()))


def _redis_of_the_cache() -> redis.Redis | None:
    """The cache's Redis server as one client kept by the process, None for another backend.
    Django's RedisCache builds a new client object for every call, and that (its table of
    reply parsers) cost the webhook more CPU than the round trip itself: the mark is set on
    every delivery. Keys and values stay the cache's, so `cache.get`/`delete` see the mark."""
    options = settings.CACHES["default"]
    if options["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return None
    location = options["LOCATION"]
    servers = location.split(",") if isinstance(location, str) else list(location)
    return _redis_client(servers[0].strip())  # Django's RedisCache writes to the first server


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)  # thread-safe; its pool starts afresh in a forked child


def queue_processing() -> None:
    """Queue a processing task unless one is queued and not started yet: that one will take
    this delivery's events too (it takes every event still new). Under a burst this is one
    publish per task run instead of one per delivery; a task clears the mark as it starts,
    so a delivery that lands while a task runs queues the next, and workers keep sharing."""
    try:
        if _cache_is_shared() and not _mark_add():
            return
    except Exception as exc:  # noqa: BLE001 - a cache that is away must not stop the queueing
        log.warning("Could not check for a queued processing task (%s): queueing one", exc)
    try:
        # One connection attempt, no retries: X (or the stream) waits for this answer, and
        # nothing is lost without the task. (kombu's defaults retry for about 6 s.)
        with process_activity_event.app.pool.acquire(block=True) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
            process_activity_event.apply_async(connection=broker, retry=False)
    except Exception as exc:  # noqa: BLE001 - kombu raises several kinds for a broker that is away
        # The events are stored and new: sweep_activity_events processes them once beat can
        # reach the broker again.
        log.warning("Events stored but not queued (%s); the sweeper will process them", exc)
        _forget_processing_queued()


def _forget_processing_queued() -> None:
    """A processing task starts (or could not be queued): deliveries from now on queue the next."""
    if not _cache_is_shared():
        return
    try:
        _mark_delete()
    except Exception as exc:  # noqa: BLE001 - the mark then lapses by itself
        log.warning("Could not clear the queued-processing mark (%s)", exc)


@shared_task
def process_activity_event(event_pk: int | None = None) -> dict | None:
    """Process the recorded events still new, in batches.

    A delivery queues this task unless one is queued already (`queue_processing`); the
    task takes every event still new, whichever delivery brought it. (`event_pk`: tasks
    queued by earlier versions named the event they were queued for.)"""
    if event_pk is not None and not ActivityEvent.objects.filter(pk=event_pk, state=ActivityEvent.State.NEW).exists():
        return None
    if not process_activity_event.request.is_eager:  # run eagerly, it is inside the delivery X waits for
        time.sleep(PROCESS_LINGER_SECONDS)
    _forget_processing_queued()
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
