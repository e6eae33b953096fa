"""Events pushed by X, from raw body to stored items: the push path's half of the intake.

`record_event` is all the webhook (and the stream consumer) do while X waits: keep the raw
event once, keyed on its event id, and hand it to Celery. `process_event` then turns it into
`IncomingItem` rows through the very functions polling uses (`store.item_from_tweet`,
`item_from_dm`, `store_items`) and asks for the same conversion, so an item seen by push and
by poll is stored once and makes the same ticket whichever path saw it first.
"""

from __future__ import annotations

import hashlib
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import IncomingItem, Stream, XAccount
from ..store import item_from_dm, item_from_malformed, item_from_tweet, store_items
from ..types import Malformed, XDMEvent, XError
from ..x_parsing import ParseError
from .events import DM_EVENT, LIKE_EVENT, Envelope, Ignored, Intake, intake_of, parse_envelope
from .models import ActivityEvent

log = logging.getLogger(__name__)

State = ActivityEvent.State


def record_event(body: str, source: str) -> ActivityEvent | None:
    """Store one raw event once; returns the row when it is new, None for a duplicate.

    An event that cannot be parsed is still kept (failed, with the reason), keyed on a hash of
    its body so a redelivery of the same broken body is not kept twice."""
    try:
        envelope = parse_envelope(body)
        fields = {"event_type": envelope.event_type, "for_user_id": envelope.for_user_id}
        event_id = envelope.event_id
    except ParseError as exc:
        event_id = "malformed:" + hashlib.sha1(body.encode()).hexdigest()
        fields = {"state": State.FAILED, "detail": f"Could not parse: {exc}"[:2000]}
    try:
        # A savepoint: a racing duplicate's IntegrityError must not break an outer transaction.
        with transaction.atomic():
            event, created = ActivityEvent.objects.get_or_create(
                event_id=event_id, defaults={"source": source, "body": body, **fields}
            )
    except IntegrityError:
        return None
    if not created:
        return None
    if event.state == State.NEW:
        transaction.on_commit(lambda: _process_soon(event.pk))
    return event


def _process_soon(event_pk: int) -> None:
    from .tasks import process_activity_event

    process_activity_event.delay(event_pk)


def process_event(event_pk: int, *, client_factory=None) -> str | None:
    """Store the items of one recorded event; returns the event's new state, or None when it
    was processed already (or another worker holds it)."""
    event = ActivityEvent.objects.filter(pk=event_pk, state=State.NEW).first()
    if event is None:
        return None
    try:
        envelope = parse_envelope(event.body)
    except ParseError as exc:
        return _finish(event_pk, State.FAILED, f"Could not parse: {exc}")
    account = XAccount.objects.filter(user_id=envelope.for_user_id).first() if envelope.for_user_id else None
    if account is None or not account.is_active:
        return _finish(event_pk, State.IGNORED, f"No connected account for X user {envelope.for_user_id or '?'}")
    try:
        rows = rows_for(account, envelope, client_factory=client_factory)
    except Ignored as exc:
        return _finish(event_pk, State.IGNORED, str(exc), account=account)
    except XError as exc:
        # Looking up a liked post failed: leave the event new; the sweeper tries again.
        log.warning("Event %s of %s waits: %s", event.event_id, account, exc.detail or type(exc).__name__)
        ActivityEvent.objects.filter(pk=event_pk).update(detail=f"X lookup failed: {exc.detail or exc}"[:2000])
        return State.NEW

    with transaction.atomic():
        locked = ActivityEvent.objects.select_for_update(skip_locked=True).filter(pk=event_pk, state=State.NEW).first()
        if locked is None:
            return None
        stored = store_items(rows)
        now = timezone.now()
        locked.account = account
        locked.state = State.PROCESSED
        locked.processed_at = now
        locked.items_stored = stored
        locked.save(update_fields=["account", "state", "processed_at", "items_stored"])
        XAccount.objects.filter(pk=account.pk).update(last_event_at=now)
    if stored:
        convert_now(account, rows)
    return State.PROCESSED


def convert_now(account: XAccount, rows: list[IncomingItem]) -> None:
    """Convert the event's items in this same task, with the very function the conversion
    tasks use: one queue hop less between X's push and the ticket. An item that must wait for
    an older one of its thread (deferred) is left to the conversion tasks, as after a poll."""
    from ..conversion import convert_item_by_id

    pending = IncomingItem.objects.filter(
        account=account, state=IncomingItem.State.NEW, x_id__in=[r.x_id for r in rows]
    ).order_by("id").values_list("pk", flat=True)
    deferred = [pk for pk in pending if convert_item_by_id(pk) == "deferred"]
    if deferred:
        _converted_soon(account.pk, len(deferred))


def rows_for(account: XAccount, envelope: Envelope, *, client_factory=None) -> list[IncomingItem]:
    """The IncomingItem rows an event makes, built exactly as a poll builds them."""
    try:
        intake = intake_of(envelope)
    except ParseError as exc:
        # A payload of the wrong shape is quarantined, as a malformed polled item is.
        stream = {LIKE_EVENT: Stream.LIKES, DM_EVENT: Stream.DMS}.get(envelope.event_type, Stream.MENTIONS)
        raw = envelope.payload if isinstance(envelope.payload, dict) else {"payload": envelope.payload}
        raw_id = raw.get("id") if isinstance(raw.get("id"), str) and raw["id"].isdigit() else None
        return [item_from_malformed(account, stream, Malformed(raw=raw, reason=str(exc), x_id=raw_id))]
    if intake.stream == Stream.LIKES and intake.item is None:
        intake = _with_liked_post(account, intake, client_factory)
        if intake.item is None:
            raise Ignored(f"the liked post {intake.liked_tweet_id} no longer exists")
    if isinstance(intake.item, XDMEvent):
        return [item_from_dm(account, intake.item, intake.users)]
    rows = [item_from_tweet(account, intake.stream, intake.item, intake.users)]
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
    parent, users = intake.included_tweets.get(parent_id), intake.users
    if parent is None or not parent.author_id:
        from ..polling import client_for

        try:
            page = (client_factory or client_for)(account).get_tweets([parent_id])
        except XError as exc:
            log.info("Could not look up the parent %s of a pushed reply: %s", parent_id, exc.detail or exc)
            return []
        parent = next((t for t in page.items if t.id == parent_id), None)
        users = {**page.users, **users}
    mentioned = {name.lower() for name in parent.mentioned_usernames} if parent else set()
    if parent is None or parent.author_id == account.user_id or account.username.lower() not in mentioned:
        return []  # not a mention of the brand: polling would not have stored it either
    return [item_from_tweet(account, Stream.MENTIONS, parent, users)]


def _with_liked_post(account: XAccount, intake: Intake, client_factory) -> Intake:
    """A like event names the post but may not include it: look it up as polling would see it."""
    from ..polling import client_for

    client = (client_factory or client_for)(account)
    page = client.get_tweets([intake.liked_tweet_id])
    intake.item = next((t for t in page.items if t.id == intake.liked_tweet_id), None)
    intake.users = {**page.users, **intake.users}
    return intake


def _finish(event_pk: int, state: str, detail: str, *, account: XAccount | None = None) -> str:
    updates = {"state": state, "detail": detail[:2000], "processed_at": timezone.now()}
    if account is not None:
        updates["account"] = account
    ActivityEvent.objects.filter(pk=event_pk, state=State.NEW).update(**updates)
    return state


def _converted_soon(account_id: int, new_items: int) -> None:
    from ..tasks import enqueue_conversion

    enqueue_conversion(account_id, new_items)
