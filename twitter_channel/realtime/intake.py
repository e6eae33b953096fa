"""Events pushed by X, from raw body to stored items: the push path's half of the intake.

`record_event` is all the webhook (and the stream consumer) do while X waits: keep the raw
event once, keyed on its event id; they then hand it to Celery (`tasks.record_and_queue`).
`process_pending` then turns events, in batches, into `IncomingItem` rows through the very
functions polling uses (`store.item_from_tweet`, `item_from_dm`, `insert_new_items`) and runs
the same conversion, so an item seen by push and by poll is stored once and makes the same
ticket whichever path saw it first. What a conversion leaves for later (a spent time budget, a
reply waiting for its parent) is returned for the task to queue (`EventStats.conversions`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from twitter_channel.accounts.connection import client_for
from twitter_channel.intake import reconcile
from twitter_channel.intake.conversion import convert_pending
from twitter_channel.intake.deletions import record_deletion
from twitter_channel.intake.store import insert_new_items, item_from_dm, item_from_malformed, item_from_tweet
from twitter_channel.models import IncomingItem, Stream, XAccount, XDeletion
from twitter_channel.realtime import requester_profiles
from twitter_channel.realtime.models import ActivityEvent
from twitter_channel.x.activity_events import (
    DM_EVENT,
    LIKE_EVENT,
    POST_DELETE_EVENT,
    PROFILE_EVENTS,
    Envelope,
    Ignored,
    Intake,
    deleted_post_id,
    intake_of,
    malformed_payload,
    parse_envelope,
    profile_change,
    split_delivery,
)
from twitter_channel.x.parsing import ParseError
from twitter_channel.x.types import XDMEvent, XError, XNotFound

if TYPE_CHECKING:
    from twitter_channel.intake.conversion import ConversionStats

log = logging.getLogger(__name__)

State = ActivityEvent.State
# Events claimed and stored per transaction (what X_CONVERT_BATCH_SIZE converts at once, by default).
EVENT_BATCH_SIZE = 200
# An event whose X lookup keeps failing this long is kept as failed instead of retried forever.
GIVE_UP_AFTER = timedelta(days=1)


def record_event(body: str, source: str) -> ActivityEvent | None:
    """Store one raw event once; returns the row when it is new, None for a duplicate (a
    delivery of several events: `record_events`)."""
    new = record_events(body, source)
    return new[0] if new else None


def record_events(body: str, source: str) -> list[ActivityEvent]:
    """Store the events of one delivery once each, in one multi-row INSERT; returns the new
    ones (a redelivered event is not among them). Those still new wait for processing
    (`pending_of`); the caller queues it.

    A delivery is one envelope, `{"data": {...}}`, or several at once, `{"data": [{...}, ...]}`
    (X batches events when they come fast); each event of a batch is kept as the envelope of
    its own. An event that cannot be parsed is still kept (failed, with the reason), keyed on
    a hash of its body so a redelivery of the same broken body is not kept twice. Nothing else
    happens while X waits: the account, the billing and the items come with processing."""
    rows = [_event_row(text, source, decoded) for text, decoded in split_delivery(body)]
    new = _insert_new(rows)
    return new


def pending_of(events: list[ActivityEvent]) -> list[int]:
    """The ids of the events that wait for processing (a broken one is kept failed at once)."""
    return [event.pk for event in events if event.state == State.NEW]


def _event_row(body: str, source: str, decoded=None) -> ActivityEvent:
    """`decoded`: the body already decoded (`split_delivery`), or None to decode it here."""
    try:
        envelope = parse_envelope(body if decoded is None else decoded)
        fields = {"event_type": envelope.event_type, "for_user_id": envelope.for_user_id}
        event_id = envelope.event_id
    except ParseError as exc:
        event_id = "malformed:" + hashlib.sha1(body.encode()).hexdigest()
        fields = {"state": State.FAILED, "detail": f"Could not parse: {exc}"[:2000]}
        if "\x00" in body:
            # A raw NUL is never JSON (X escapes it as \u0000) and PostgreSQL stores it in no
            # text column: the body is kept with each NUL written out, still not JSON, so a
            # retry fails the same way instead of the insert failing on every redelivery.
            body = body.replace("\x00", "\\x00")
            fields["detail"] = (fields["detail"] + " (its NUL characters are kept as \\x00)")[:2000]
    return ActivityEvent(event_id=event_id, source=source, body=body, **fields)


def _insert_new(rows: list[ActivityEvent]) -> list[ActivityEvent]:
    """INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING: one statement, which says which
    rows are new (Django's bulk_create with ignore_conflicts cannot)."""
    unique: dict[str, ActivityEvent] = {}
    for row in rows:
        unique.setdefault(row.event_id, row)
    rows = list(unique.values())
    if connection.vendor != "postgresql":  # SQLite in development: one get_or_create each
        new = []
        for row in rows:
            with transaction.atomic():
                event, created = ActivityEvent.objects.get_or_create(
                    event_id=row.event_id, defaults={f: getattr(row, f) for f in EVENT_COLUMNS if f != "event_id"})
            if created:
                new.append(event)
        return new
    now = timezone.now()
    for row in rows:
        row.received_at = now
    table = ActivityEvent._meta.db_table
    columns = ", ".join(EVENT_COLUMNS)
    values = ", ".join(["(" + ", ".join(["%s"] * len(EVENT_COLUMNS)) + ")"] * len(rows))
    params = [getattr(row, name) for row in rows for name in EVENT_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT (event_id) DO NOTHING "
                       "RETURNING id, event_id", params)
        returned = dict((event_id, pk) for pk, event_id in cursor.fetchall())
    new = [row for row in rows if row.event_id in returned]
    for row in new:
        row.pk = returned[row.event_id]
        row._state.adding = False
    return new


EVENT_COLUMNS = ("event_id", "source", "event_type", "for_user_id", "body", "received_at", "state", "detail",
                 "items_stored")


def _bill_events(events: list[ActivityEvent], accounts: dict[str, XAccount]) -> None:
    """X bills each pushed event once. Billed as it leaves `new`, which happens once (a
    redelivery is the same row): one record per account for the whole batch."""
    from twitter_channel.costs.meter import record
    from twitter_channel.x.pricing import event_charge

    charges: dict[int, list] = {}
    for event in events:
        charge = event_charge(event.event_type, event.event_id) if event.state != State.NEW else None
        account = accounts.get(event.for_user_id) if charge and event.for_user_id else None
        if account is not None:
            charges.setdefault(account.pk, []).append(charge)
    for account_id, account_charges in sorted(charges.items()):
        record(account_id, account_charges)


@dataclass
class EventStats:
    processed: int = 0
    ignored: int = 0
    failed: int = 0
    waiting: int = 0  # a lookup at X failed: left new for the sweeper
    items_stored: int = 0
    unfinished: bool = False  # the time budget ran out with events left
    # (account id, its conversion's stats) for each conversion run: the task queues what they
    # left for later.
    conversions: list[tuple[int, ConversionStats]] = field(default_factory=list, repr=False)

    def summary(self) -> dict:
        return {name: value for name, value in vars(self).items() if name != "conversions"}


def process_pending(*, time_budget: float | None = None, convert_budget: float | None = None,
                    client_factory=None) -> EventStats:
    """Turn recorded events still new into stored items, oldest first, then convert them
    (each account's conversion within `convert_budget` seconds, as a conversion task's).

    Events are claimed in batches with one `SELECT ... FOR UPDATE SKIP LOCKED`, so workers
    running in parallel take disjoint batches, and a batch's items, event states and the
    accounts' last event times are written in that one transaction: a worker killed mid-batch
    leaves its events new for the next. One event that cannot be understood is kept as failed
    with the reason and never holds up the rest of its batch."""
    started = time.monotonic()
    stats = EventStats()
    waiting: set[int] = set()
    while True:
        if time_budget is not None and time.monotonic() - started > time_budget:
            stats.unfinished = True
            break
        with transaction.atomic():
            batch = list(
                ActivityEvent.objects.select_for_update(skip_locked=True)
                .filter(state=State.NEW)
                .exclude(pk__in=waiting)
                .order_by("id")[:EVENT_BATCH_SIZE]
            )
            if not batch:
                break
            stored_for = _store_batch(batch, stats, client_factory)
        waiting.update(event.pk for event in batch if event.state == State.NEW)
        for account_id in stored_for:
            # Converted in this same run: one queue hop less between X's push and the ticket.
            stats.conversions.append((account_id, convert_pending(account_id, time_budget=convert_budget)))
    return stats


def _store_batch(batch: list[ActivityEvent], stats: EventStats, client_factory) -> set[int]:
    """Store the items of a locked batch of events; returns the accounts that got new items."""
    now = timezone.now()
    # Every account the batch's events name, connected or not (X bills events either way).
    accounts = {a.user_id: a for a in XAccount.objects.filter(user_id__in={e.for_user_id for e in batch})}
    rows_of = _rows_of_events(batch, stats, client_factory, now, accounts)
    by_account: dict[int, list[IncomingItem]] = {}
    for rows in rows_of.values():
        for row in rows:
            by_account.setdefault(row.account_id, []).append(row)
    fresh: set[int] = set()  # id() of the rows inserted now
    for account_id, rows in by_account.items():
        fresh.update(id(row) for row in insert_new_items(rows))
        reconcile.push_brought(account_id, [row for row in rows if id(row) not in fresh])
    for event in batch:
        if event.pk in rows_of:
            event.items_stored = sum(id(row) in fresh for row in rows_of[event.pk])
            _mark(event, State.PROCESSED, "", now)
        stats.processed += event.state == State.PROCESSED
        stats.ignored += event.state == State.IGNORED
        stats.failed += event.state == State.FAILED
    stats.items_stored += len(fresh)
    _save_outcomes(batch)
    _bill_events(batch, accounts)
    XAccount.objects.filter(pk__in={event.account_id for event in batch if event.pk in rows_of}).update(
        last_event_at=now
    )
    return {account_id for account_id, rows in by_account.items() if any(id(row) in fresh for row in rows)}


def _rows_of_events(batch: list[ActivityEvent], stats: EventStats, client_factory, now,
                    known_accounts: dict[str, XAccount]) -> dict[int, list]:
    """The item rows of each event that makes any (by event pk); every other event is marked
    with why it makes none, or left new with the reason it has to wait."""
    envelopes: dict[int, Envelope] = {}
    for event in batch:
        try:
            envelopes[event.pk] = parse_envelope(event.body)
        except ParseError as exc:
            _mark(event, State.FAILED, f"Could not parse: {exc}", now)
    accounts = {user_id: account for user_id, account in known_accounts.items() if account.is_active}
    missing = {e.for_user_id for e in envelopes.values() if e.for_user_id and e.for_user_id not in known_accounts}
    if missing:  # an envelope naming another user than the row did (rows of older versions)
        accounts.update({a.user_id: a for a in XAccount.objects.filter(user_id__in=missing, is_active=True)})
    rows_of: dict[int, list[IncomingItem]] = {}
    for event in batch:
        envelope = envelopes.get(event.pk)
        if envelope is None:
            continue
        account = accounts.get(envelope.for_user_id)
        if account is None and envelope.event_type in PROFILE_EVENTS:
            _take_requester_profile(event, envelope, now)
            continue
        if account is None:
            _mark(event, State.IGNORED, f"No connected account for X user {envelope.for_user_id or '?'}", now)
            continue
        event.account = account
        try:
            rows_of[event.pk] = rows_for(account, envelope, client_factory=client_factory)
        except Ignored as exc:
            _mark(event, State.IGNORED, str(exc), now)
        except XError as exc:
            detail = f"X lookup failed: {exc.detail or exc}"
            if event.received_at < now - GIVE_UP_AFTER:
                _mark(event, State.FAILED, f"{detail} (still failing after {GIVE_UP_AFTER}, given up)", now)
                continue
            # Looking up a liked post failed: the event stays new; the sweeper tries again.
            log.warning("Event %s of %s waits: %s", event.event_id, account, exc.detail or type(exc).__name__)
            event.detail = detail[:2000]
            stats.waiting += 1
        except Exception as exc:  # noqa: BLE001 — one event we cannot read must not stop the batch behind it
            log.exception("Event %s of %s could not be processed", event.event_id, account)
            _mark(event, State.FAILED, f"Could not process: {type(exc).__name__}: {exc}", now)
    return rows_of


def _save_outcomes(batch: list[ActivityEvent]) -> None:
    """What became of each event of the batch, in one `UPDATE ... FROM (VALUES ...)`. (Django's
    bulk_update writes a CASE per row and field, and building it cost more CPU than storing the
    batch's items did.)"""
    fields = ["state", "detail", "processed_at", "account", "items_stored"]
    if connection.vendor != "postgresql":
        ActivityEvent.objects.bulk_update(batch, fields)
        return
    table = ActivityEvent._meta.db_table
    values = ", ".join(["(%s::bigint, %s, %s, %s::timestamptz, %s::bigint, %s::smallint)"] * len(batch))
    params = [v for e in batch for v in (e.pk, e.state, e.detail, e.processed_at, e.account_id, e.items_stored)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS event SET state = v.state, detail = v.detail, processed_at = v.processed_at, "
            "account_id = v.account_id, items_stored = v.items_stored "
            f"FROM (VALUES {values}) AS v (id, state, detail, processed_at, account_id, items_stored) "
            "WHERE event.id = v.id", params)


def _take_requester_profile(event: ActivityEvent, envelope: Envelope, now) -> None:
    """A requester's profile changed on X (their `requester_profiles` subscription)."""
    try:
        applied, detail = requester_profiles.apply_profile_event(envelope)
    except ParseError as exc:
        _mark(event, State.FAILED, f"Could not parse: {exc}", now)
        return
    _mark(event, State.PROCESSED if applied else State.IGNORED, detail, now)
    if not applied:
        # Someone we do not serve (an erased requester, before the sync removed the
        # subscription): their old and new name or picture are not kept.
        event.body = json.dumps({"event_uuid": event.event_id, "not_kept": True})
        ActivityEvent.objects.filter(pk=event.pk).update(body=event.body)


def _mark(event: ActivityEvent, state: str, detail: str, now) -> None:
    event.state, event.detail, event.processed_at = state, detail[:2000], now


def rows_for(account: XAccount, envelope: Envelope, *, client_factory=None) -> list[IncomingItem]:
    """The IncomingItem rows an event makes, built exactly as a poll builds them."""
    if envelope.event_type == POST_DELETE_EVENT:
        # Makes no row: the post is redacted wherever we hold it, in this batch's transaction.
        record_deletion(deleted_post_id(envelope), source=XDeletion.Source.REALTIME)
        return []
    if envelope.event_type in PROFILE_EVENTS:
        field, value = profile_change(envelope)
        limit = XAccount._meta.get_field(field).max_length
        try:
            with transaction.atomic():  # a savepoint: the batch goes on if this fails
                XAccount.objects.filter(pk=account.pk).update(**{field: value[:limit]})
        except IntegrityError as exc:  # a handle another connected account still holds here
            raise Ignored(f"profile not updated: {exc}") from exc
        return []
    try:
        intake = intake_of(envelope)
    except ParseError as exc:
        # A payload of the wrong shape is quarantined, as a malformed polled item is.
        stream = {LIKE_EVENT: Stream.LIKES, DM_EVENT: Stream.DMS}.get(envelope.event_type, Stream.MENTIONS)
        return [item_from_malformed(account, stream, malformed_payload(envelope, str(exc)))]
    if intake.stream == Stream.LIKES and intake.item is None:
        intake = _with_liked_post(account, intake, client_factory)
        if intake.item is None:
            raise Ignored(f"the liked post {intake.liked_tweet_id} no longer exists")
    if isinstance(intake.item, XDMEvent):
        return [item_from_dm(account, intake.item, intake.users, intake.media)]
    rows = [item_from_tweet(account, intake.stream, intake.item, intake.users, intake.media)]
    if intake.stream == Stream.MENTIONS:
        rows = _missing_parent(account, intake, client_factory) + rows
    return rows


def _missing_parent(account: XAccount, intake: Intake, client_factory) -> list[IncomingItem]:
    """X may deliver a reply before the mention it answers (events are not ordered). Polling
    stores oldest first, so the parent's ticket exists when the reply arrives; to make the same
    ticket here, a reply whose parent is a mention of the brand we have not stored yet brings
    the parent along, stored first. The parent's own event, when it comes, is then a duplicate."""
    parent_id = intake.item.replied_to_id
    if not parent_id or IncomingItem.objects.filter(account=account, x_id=parent_id).exists():
        return []
    parent, users, media = intake.included_tweets.get(parent_id), intake.users, intake.media
    if parent is None or not parent.author_id:
        try:
            page = (client_factory or client_for)(account).get_tweets([parent_id])
        except XError as exc:
            log.info("Could not look up the parent %s of a pushed reply: %s", parent_id, exc.detail or exc)
            return []
        parent = next((t for t in page.items if t.id == parent_id), None)
        users = {**page.users, **users}
        media = {**page.media, **media}
    mentioned = {name.lower() for name in parent.mentioned_usernames} if parent else set()
    if parent is None or parent.author_id == account.user_id or account.username.lower() not in mentioned:
        return []  # not a mention of the brand: polling would not have stored it either
    return [item_from_tweet(account, Stream.MENTIONS, parent, users, media)]


def _with_liked_post(account: XAccount, intake: Intake, client_factory) -> Intake:
    """A like event names the post but may not include it: look it up as polling would see it."""
    client = (client_factory or client_for)(account)
    try:
        page = client.get_tweets([intake.liked_tweet_id])
    except XNotFound:
        intake.item = None  # deleted since the like: nothing to ticket, and nothing to wait for
        return intake
    intake.item = next((t for t in page.items if t.id == intake.liked_tweet_id), None)
    intake.users = {**page.users, **intake.users}
    intake.media = {**page.media, **intake.media}
    return intake
