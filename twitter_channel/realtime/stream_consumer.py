"""The long-lived consumer of `GET /2/activity/stream` (run by `manage.py x_stream`).

One connection per app carries the events of every account in stream mode (X allows two).
Each line is recorded raw, once, and processed by Celery (`tasks.record_and_queue`), exactly
as a webhook delivery. When the stream drops (X closes it, the network breaks, a silence longer
than the keep-alive interval) the consumer reconnects with exponential backoff and full
jitter, and asks X to resend what it missed with `backfill_minutes` (X keeps at most 5). A gap
longer than that is left to the reconciliation polls, which are asked to run at once.

With no account in stream mode it holds no connection and looks again every
`idle_check_seconds` (or exits, with `exit_when_idle`).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connections
from django.db.models import Max
from django.utils import timezone

from twitter_channel.accounts.connection import app_client
from twitter_channel.models import StreamCursor, XAccount
from twitter_channel.realtime.models import ActivityEvent
from twitter_channel.realtime.tasks import record_and_queue
from twitter_channel.x.types import XAuthError, XError, XRateLimited

log = logging.getLogger(__name__)

MAX_BACKFILL_MINUTES = 5  # X's limit for backfill_minutes


def backfill_minutes(gap_seconds: float | None) -> int:
    """Minutes of backfill covering a gap: at least one after any drop, at most X's five."""
    if gap_seconds is None:
        return 0
    return min(MAX_BACKFILL_MINUTES, max(1, math.ceil(gap_seconds / 60)))


def backoff_seconds(failures: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    ceiling = min(cap, base * 2 ** max(failures - 1, 0))
    return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass
class ConsumerStats:
    connections: int = 0
    drops: int = 0
    lines: int = 0
    recorded: int = 0
    last_backfill: int = 0


class StreamConsumer:
    def __init__(self, client_factory: Callable[[], object] | None = None, *, backoff_base: float = 1.0,
                 backoff_cap: float = 60.0, read_timeout: float = 60.0, idle_check_seconds: float = 10.0) -> None:
        self.client_factory = client_factory or app_client
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.read_timeout = read_timeout
        self.idle_check_seconds = idle_check_seconds
        self.stop = threading.Event()
        self.stats = ConsumerStats()

    def run(self, *, exit_when_idle: bool = False, max_seconds: float | None = None) -> ConsumerStats:
        deadline = time.monotonic() + max_seconds if max_seconds else None
        failures = 0
        # Where the last connection stood: the last moment we know nothing was missed.
        alive_at = _last_stream_event_time()
        while not self.stop.is_set() and (deadline is None or time.monotonic() < deadline):
            close_old_connections()  # a long-lived process outlives its database connections
            if not stream_accounts_exist():
                if exit_when_idle:
                    break
                self.stop.wait(self.idle_check_seconds)
                continue
            gap = None if alive_at is None else time.time() - alive_at
            backfill = backfill_minutes(gap)
            if gap is not None and gap > MAX_BACKFILL_MINUTES * 60:
                log.warning("The activity stream was away %.0f s, more than X backfills; polling reconciles", gap)
                reconcile_now()
            try:
                self._consume(backfill, deadline)
                failures = 0
            except XError as exc:
                failures += 1
                wait = self._wait_after(exc, failures)
                log.warning("Activity stream dropped (%s); reconnecting in %.1f s", exc.detail or exc, wait)
                self.stop.wait(wait)
            finally:
                alive_at = self._alive_at or alive_at
        connections.close_all()  # this thread's connections end with it
        return self.stats

    _alive_at: float | None = None

    def _consume(self, backfill: int, deadline: float | None) -> None:
        client = self.client_factory()
        self.stats.connections += 1
        self.stats.last_backfill = backfill
        self._alive_at = time.time()
        try:
            for line in client.activity_stream(backfill_minutes=backfill, read_timeout=self.read_timeout):
                self._alive_at = time.time()
                if line:  # "" is a keep-alive
                    self.stats.lines += 1
                    if record_and_queue(line, ActivityEvent.Source.STREAM):
                        self.stats.recorded += 1
                if self.stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                    return
                if not stream_accounts_exist(cached=True):
                    return
        except XError:
            self.stats.drops += 1
            raise
        finally:
            close = getattr(client, "close", None)
            if close:
                close()

    def _wait_after(self, exc: XError, failures: int) -> float:
        if isinstance(exc, XRateLimited) and exc.reset_at is not None:
            return max((exc.reset_at - timezone.now()).total_seconds(), self.backoff_base)
        if isinstance(exc, XAuthError):
            return self.backoff_cap  # the app token is wrong: a person must fix it; do not hammer X
        return backoff_seconds(failures, base=self.backoff_base, cap=self.backoff_cap)


_accounts_checked_at = 0.0
_accounts_exist = False


def stream_accounts_exist(*, cached: bool = False) -> bool:
    """Whether any connected account takes its events from the stream. Between lines, the
    answer is reused for a few seconds rather than asked of the database for every event."""
    global _accounts_checked_at, _accounts_exist
    if cached and time.monotonic() - _accounts_checked_at < 5:
        return _accounts_exist
    _accounts_exist = XAccount.objects.filter(intake_mode=XAccount.IntakeMode.STREAM, is_active=True).exists()
    _accounts_checked_at = time.monotonic()
    return _accounts_exist


def _last_stream_event_time() -> float | None:
    last = XAccount.objects.filter(intake_mode=XAccount.IntakeMode.STREAM).aggregate(t=Max("last_event_at"))["t"]
    return last.timestamp() if last else None


def reconcile_now() -> None:
    """Ask the next dispatch to poll every stream of the stream-mode accounts."""
    StreamCursor.objects.filter(account__intake_mode=XAccount.IntakeMode.STREAM).update(next_poll_at=timezone.now())
