"""Polling X: one stream (mentions, DMs, likes) of one account per call.

A poll walks the stream's pages back to where the last poll stopped, stores every item
(`store.store_items`) and moves the cursor forward in the same transaction, then schedules
the next poll from the rate-limit budget X reported (`schedule`). Conversion into tickets
runs afterwards, elsewhere (`conversion`, queued by the poll task for what the poll says it
stored), so a poll only ever stores.

The cursor row is locked for the whole poll (`select_for_update(skip_locked=True)`): a
second poll of the same account+stream finds it locked and steps aside. If a poll dies
half way, its transaction rolls back and the next one fetches the same pages again; the
unique constraint on the items makes that harmless.

What X errors mean here: 401 → refresh the token once, else the account needs reconnecting
(only that account stops; tokens and reconnecting are `accounts.connection`'s); 429 → wait
for x-rate-limit-reset; 5xx / timeouts → back off with jitter. Items fetched before a
mid-walk error are stored (they are deduplicated) but the cursor stays where it was, so
nothing between is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitoring import counters
from twitter_channel.accounts.connection import (
    client_for,
    ensure_cursors,
    mark_needs_reconnect,
    refresh_account_token,
    refresh_token_if_expiring,
)
from twitter_channel.intake import reconcile, schedule
from twitter_channel.intake.store import items_from_page, store_items
from twitter_channel.models import IncomingItem, Stream, StreamCursor, XAccount
from twitter_channel.x.types import Page, RateLimit, XAuthError, XError, XRateLimited, XTransientError

log = logging.getLogger(__name__)

ClientFactory = Callable[[XAccount], object]
# How many recent like ids a cursor remembers: the walk stops at any of them, so unliking
# the newest liked post does not send the next poll through the whole like history.
SEEN_LIKES_KEPT = 20


@dataclass
class PollResult:
    account: str
    stream: str
    outcome: str  # ok | busy | paused | rate_limited | failed | reconnect
    pages: int = 0
    fetched: int = 0
    stored: int = 0
    next_poll_at: datetime | None = None
    error: str = ""
    # Items this poll stored, those of an attempt that then failed included: what conversion has
    # to take next (the poll task queues it; polling itself only stores).
    to_convert: int = 0
    new_item_ids: list[int] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        text = f"{self.account} {self.stream}: {self.outcome}"
        if self.outcome == "ok":
            text += f", {self.pages} page(s), {self.fetched} fetched, {self.stored} new"
        if self.error:
            text += f" ({self.error})"
        if self.next_poll_at:
            text += f"; next poll at {self.next_poll_at:%H:%M:%S}"
        return text


# --- one poll ----------------------------------------------------------------------------------


def poll_stream(account_id: int, stream: str, *, client_factory: ClientFactory | None = None) -> PollResult:
    """Poll one stream of the account; `result.to_convert` says how many new items wait for
    conversion (the caller queues it: `tasks.poll_stream`)."""
    stored: list[int] = []  # what each committed walk stored, a failed one's included
    result = _poll(account_id, stream, client_factory or client_for, stored)
    result.to_convert = sum(stored)
    return result


def _poll(account_id: int, stream: str, client_factory: ClientFactory, stored: list[int]) -> PollResult:
    account = XAccount.objects.get(pk=account_id)
    ensure_cursors(account)
    if not account.is_polling:
        return PollResult(str(account), stream, "paused")
    try:
        account = refresh_token_if_expiring(account)
    except XAuthError as exc:
        return _needs_reconnect(account, stream, exc)
    except XError as exc:
        return _failed(account, stream, exc)

    for attempt in (1, 2):
        try:
            return _walk_and_store(account, stream, client_factory(account), stored)
        except XAuthError as exc:
            if attempt == 1 and account.refresh_token:
                try:
                    account = refresh_account_token(account)
                    continue
                except XAuthError as refresh_exc:
                    return _needs_reconnect(account, stream, refresh_exc)
                except XError as refresh_exc:
                    return _failed(account, stream, refresh_exc)
            return _needs_reconnect(account, stream, exc)
        except XRateLimited as exc:
            return _rate_limited(account, stream, exc)
        except XError as exc:
            return _failed(account, stream, exc)
    raise AssertionError("unreachable")


def _walk_and_store(account: XAccount, stream: str, client, stored: list[int]) -> PollResult:
    result = PollResult(str(account), stream, "ok")
    error: XError | None = None
    with transaction.atomic():
        cursor = StreamCursor.objects.select_for_update(skip_locked=True).filter(account=account, stream=stream).first()
        if cursor is None:
            return PollResult(str(account), stream, "busy")
        rows: list[IncomingItem] = []
        try:
            pages = _walk(account, stream, cursor, client)
        except XError as exc:
            # Keep what the walk got so far (deduplicated anyway), but leave the cursor: the
            # pages not fetched yet lie between it and these items.
            error = exc
            pages = getattr(exc, "pages_so_far", [])
        for page in pages:
            rows.extend(items_from_page(account, stream, page))
        # X lists newest first; stored oldest first, ids follow time, and conversion (which
        # goes by id) meets a thread's first message before its replies.
        rows.reverse()
        result.pages = len(pages)
        result.fetched = len(rows)
        reconcile.stamp_unseen(account, rows)  # real time: what push should have brought
        result.stored = store_items(rows)
        now = timezone.now()
        cursor.items_fetched += result.stored
        cursor.last_attempt_at = now
        _remember_rate_limit(cursor, getattr(client, "last_rate_limit", None) or _last_rate_limit(pages))
        if error is None:
            _advance(cursor, stream, pages)
            cursor.last_success_at = now
            cursor.consecutive_failures = 0
            cursor.last_error = ""
            cursor.next_poll_at = schedule.next_poll_after_success(_rate_limit_of(cursor), now, account=account)
            cursor.claimed_at = None
            result.next_poll_at = cursor.next_poll_at
        cursor.save()
    stored.append(result.stored)
    if error is not None:
        raise error
    return result


def _walk(account: XAccount, stream: str, cursor: StreamCursor, client) -> list[Page]:
    """The pages newest first until the point the previous poll reached. A first poll
    (no cursor yet) reads X_FIRST_POLL_MAX_PAGES pages, so connecting an account does not
    turn years of history into tickets."""
    pages: list[Page] = []
    first_poll = not (cursor.since_id or cursor.last_seen_id or cursor.recent_ids or cursor.last_success_at)
    max_pages = settings.X_FIRST_POLL_MAX_PAGES if first_poll else settings.X_POLL_MAX_PAGES
    token: str | None = None
    try:
        while True:
            if stream == Stream.MENTIONS:
                page = client.get_mentions(account.user_id, since_id=cursor.since_id or None, pagination_token=token)
            elif stream == Stream.DMS:
                page = client.get_dm_events(pagination_token=token)
            else:
                page = client.get_liked_tweets(account.user_id, pagination_token=token)
            reached_known = _trim_to_unseen(stream, cursor, page)
            pages.append(page)
            token = page.next_token
            if reached_known or not token or len(pages) >= max_pages:
                return pages
    except XError as exc:
        exc.pages_so_far = pages  # type: ignore[attr-defined]
        raise


def _trim_to_unseen(stream: str, cursor: StreamCursor, page: Page) -> bool:
    """Drop items the previous poll already covered; True when the walk reached them.

    Mentions need nothing: since_id already limits them. DM events have time-ordered ids
    and no since_id, so the walk stops at the last event seen. Likes are ordered by when the
    like happened, not by id, so the walk stops at any of the recently seen liked posts."""
    if stream == Stream.DMS and cursor.last_seen_id:
        last = int(cursor.last_seen_id)
        fresh = [e for e in page.items if int(e.id) > last]
        reached = len(fresh) < len(page.items)
        page.items = fresh
        return reached
    if stream == Stream.LIKES and cursor.recent_ids:
        seen = set(cursor.recent_ids)
        fresh = []
        for tweet in page.items:
            if tweet.id in seen:
                page.items = fresh
                return True
            fresh.append(tweet)
    return False


def _advance(cursor: StreamCursor, stream: str, pages: list[Page]) -> None:
    ids = [item.id for page in pages for item in page.items]
    if not ids:
        return
    if stream == Stream.MENTIONS:
        newest = max(int(i) for i in ids)
        if not cursor.since_id or newest > int(cursor.since_id):
            cursor.since_id = str(newest)
    elif stream == Stream.DMS:
        newest = max(int(i) for i in ids)
        if not cursor.last_seen_id or newest > int(cursor.last_seen_id):
            cursor.last_seen_id = str(newest)
    else:
        cursor.recent_ids = list(dict.fromkeys(ids + list(cursor.recent_ids)))[:SEEN_LIKES_KEPT]


# --- outcomes ----------------------------------------------------------------------------------


def _rate_limited(account: XAccount, stream: str, exc: XRateLimited) -> PollResult:
    now = timezone.now()
    next_at = schedule.next_poll_after_rate_limited(exc.reset_at, now)
    _record_failure(account, stream, f"Rate limited by X until {next_at:%H:%M:%S}", next_at, count=False,
                    remaining=0, reset_at=exc.reset_at)
    counters.add("helpdesk_x_rate_limited_total", account=account.username, stream=stream)
    return PollResult(str(account), stream, "rate_limited", next_poll_at=next_at, error="429 Too Many Requests")


def _failed(account: XAccount, stream: str, exc: XError) -> PollResult:
    failures = StreamCursor.objects.get(account=account, stream=stream).consecutive_failures + 1
    now = timezone.now()
    next_at = schedule.backoff(failures, now)
    kind = "X is unavailable" if isinstance(exc, XTransientError) else "X refused the request"
    message = f"{kind}: {exc.detail or type(exc).__name__}"
    log.warning("Polling %s %s failed (%s failures in a row): %s", account, stream, failures, message)
    _record_failure(account, stream, message, next_at)
    counters.add("helpdesk_x_backoffs_total", account=account.username, stream=stream)
    return PollResult(str(account), stream, "failed", next_poll_at=next_at, error=message)


def _needs_reconnect(account: XAccount, stream: str, exc: XError) -> PollResult:
    message = f"X no longer accepts this account's authorization ({exc.detail or 'HTTP 401'}); reconnect it."
    mark_needs_reconnect(account, message)
    _record_failure(account, stream, message, timezone.now() + timedelta(seconds=schedule.seconds("X_POLL_MAX_INTERVAL_SECONDS")))
    return PollResult(str(account), stream, "reconnect", error=message)


def _record_failure(account, stream, message, next_at, *, count=True, remaining=None, reset_at=None) -> None:
    cursor = StreamCursor.objects.get(account=account, stream=stream)
    cursor.last_attempt_at = timezone.now()
    cursor.last_error = message[:2000]
    cursor.next_poll_at = next_at
    cursor.claimed_at = None
    if count:
        cursor.consecutive_failures += 1
    if remaining is not None:
        cursor.rate_remaining = remaining
    if reset_at is not None:
        cursor.rate_reset_at = reset_at
    cursor.save()
    XAccount.objects.filter(pk=account.pk).update(last_error=message[:2000], last_error_at=timezone.now())


# --- rate-limit bookkeeping ---------------------------------------------------------------------------


def _remember_rate_limit(cursor: StreamCursor, limit: RateLimit | None) -> None:
    if limit is None:
        return
    cursor.rate_limit = limit.limit
    cursor.rate_remaining = limit.remaining
    cursor.rate_reset_at = limit.reset_at


def _rate_limit_of(cursor: StreamCursor) -> RateLimit | None:
    if cursor.rate_remaining is None:
        return None
    return RateLimit(limit=cursor.rate_limit, remaining=cursor.rate_remaining, reset_at=cursor.rate_reset_at)


def _last_rate_limit(pages: list[Page]) -> RateLimit | None:
    return next((p.rate_limit for p in reversed(pages) if p.rate_limit), None)
