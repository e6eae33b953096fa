"""Requesters' X profiles kept in step with X by `profile.update.*` events.

What X allows (spec 2.167, `CreateActivitySubscriptionRequest`; X's Activity API docs):
profile events are public, so the app's bearer token may subscribe to them for any user, but
each subscription is filtered on exactly one `user_id`, and an app holds a limited number of
subscriptions in all (X's changelog of July 2026: 1,500 on self-serve, 75,000 Enterprise,
150,000 Partner). One subscription per event type and requester for every requester we ever
saw would run out at a few hundred people, so we subscribe for those agents are working
with: requesters with a ticket not yet solved, most recently updated first, within what the
limit leaves after every connected account's own subscriptions (`requester_budget`). A
requester whose tickets are all solved is unsubscribed; their profile is refreshed again by
their next post or DM (conversion keeps it current) and by the batch compliance job.

Events go where the accounts' own events go: to the webhook when an account takes events
by webhook, on the stream when one streams; with every account polling nothing is held.
`sync_requester_profile_subscriptions` (beat, every few minutes) makes and removes a bounded
number of subscriptions per run, so a first sync of many requesters stays within X's rate
limit on creating subscriptions (500 per 15 minutes).

An event for someone who is no longer a requester (erased, or the subscription outlived
them) changes nothing and its body is not kept: we hold nothing about people we do not serve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max

from helpdesk.advisory_lock import advisory_lock
from tickets.models import Identity
from tickets.queues import UNSOLVED
from tickets.requesters import update_identity_profile
from twitter_channel.accounts.connection import app_client
from twitter_channel.models import XAccount
from twitter_channel.realtime.models import ActivitySubscription, RequesterProfileSubscription
from twitter_channel.realtime.subscriptions import ensure_webhook
from twitter_channel.x.activity_events import SUBSCRIPTIONS, Envelope, profile_value
from twitter_channel.x.types import XBadRequest, XError, XNotFound

log = logging.getLogger(__name__)

Mode = XAccount.IntakeMode
TAG = "helpdesk-requesters"
# The events taken for requesters, and the identity field each updates.
IDENTITY_FIELDS = {
    "profile.update.screenname": "display_name",
    "profile.update.handle": "handle",
    "profile.update.profile_picture": "avatar_url",
}
# Subscriptions made or removed per run: three runs per 15 minutes stay under X's 500.
CHANGES_PER_RUN = 150
SYNC_LOCK = 0x50726F66  # "Prof": the advisory lock of a running sync


@dataclass
class SyncStats:
    created: int = 0
    deleted: int = 0
    refused: int = 0
    wanted: int = 0  # requesters that should be subscribed
    unfinished: bool = False  # changes left for the next run (the per-run bound, or an X error)
    busy: bool = False  # another sync was running: this one did nothing


def requester_budget() -> int:
    """How many requesters may be subscribed: the app's limit less what every connected
    account holds once in real time (reserved even while it polls, so switching an account
    to real time always finds room)."""
    per_account = sum(len(entries) for entries in SUBSCRIPTIONS.values())
    accounts = XAccount.objects.filter(is_active=True).count()
    held_by_accounts = max(ActivitySubscription.objects.count(), per_account * accounts)
    room = settings.X_ACTIVITY_SUBSCRIPTION_LIMIT - held_by_accounts
    return max(room, 0) // len(IDENTITY_FIELDS)


def wanted_user_ids(limit: int) -> list[str]:
    """X user ids of the requesters with a ticket not yet solved, most recently updated first."""
    if limit <= 0:
        return []
    brands = XAccount.objects.values_list("user_id", flat=True)
    return list(
        Identity.objects.filter(kind=Identity.Kind.X, requester__erased_at=None,
                                requester__tickets__status__in=UNSOLVED)
        .exclude(value__in=brands)
        .values("value")
        .annotate(last=Max("requester__tickets__updated_at"))
        .order_by("-last", "value")
        .values_list("value", flat=True)[:limit]
    )


def delivery_target(app) -> str | None:
    """The webhook id events should go to, "" for the stream, None when no account takes
    events in real time (nothing would receive them)."""
    modes = set(XAccount.objects.filter(is_active=True).values_list("intake_mode", flat=True))
    if Mode.WEBHOOK in modes:
        return ensure_webhook(app).id
    return "" if Mode.STREAM in modes else None


def sync_requester_profile_subscriptions(*, app=None, per_run: int = CHANGES_PER_RUN) -> SyncStats:
    """Bring the subscriptions X holds for requesters to what `wanted_user_ids` says: removed
    ones first (they free room under the limit), then new ones in order of priority. One
    sync at a time: two (two beats, a slow run overlapping the next) would each subscribe
    the same requester at X, and the loser's subscription would deliver, unrecorded, twice."""
    with advisory_lock(SYNC_LOCK) as acquired:
        if not acquired:
            return SyncStats(busy=True)
        return _sync(app, per_run)


def _sync(app, per_run: int) -> SyncStats:
    stats = SyncStats()
    held = list(RequesterProfileSubscription.objects.all())
    modes = set(XAccount.objects.filter(is_active=True).values_list("intake_mode", flat=True))
    if not held and not modes & {Mode.WEBHOOK, Mode.STREAM}:
        return stats  # nothing held, nothing to hold: no call to X
    app = app or app_client()
    target = delivery_target(app)
    users = [] if target is None else wanted_user_ids(requester_budget())
    stats.wanted = len(users)
    wanted = {(user, event_type) for user in users for event_type in IDENTITY_FIELDS}
    stale = [r for r in held if (r.x_user_id, r.event_type) not in wanted or r.webhook_id != target]
    stale_pks = {r.pk for r in stale}
    budget = per_run
    for row in stale:
        if budget <= 0:
            stats.unfinished = True
            return stats
        try:
            app.delete_activity_subscription(row.subscription_id)
        except XNotFound:
            pass  # already gone at X
        except XError as exc:
            log.warning("Could not remove the profile subscription %s: %s", row.subscription_id, exc.detail or exc)
            stats.unfinished = True
            return stats
        row.delete()
        stats.deleted += 1
        budget -= 1
    have = {(r.x_user_id, r.event_type) for r in held if r.pk not in stale_pks}
    for user in users:
        for event_type in IDENTITY_FIELDS:
            if (user, event_type) in have:
                continue
            if budget <= 0:
                stats.unfinished = True
                return stats
            budget -= 1
            try:
                sub = app.create_activity_subscription(event_type, user, webhook_id=target or "", tag=TAG)
            except XBadRequest as exc:
                # An account X no longer knows (deleted, suspended): tried again next run,
                # the batch compliance job will have redacted it by then.
                log.info("X refused a %s subscription for X user %s: %s", event_type, user, exc.detail or exc)
                stats.refused += 1
                continue
            except XError as exc:  # rate limited, X away: the next run goes on from here
                log.warning("Stopped subscribing requesters' profiles: %s", exc.detail or exc)
                stats.unfinished = True
                return stats
            # Saved one by one: a crash later in the run leaves no subscription unrecorded.
            RequesterProfileSubscription.objects.create(x_user_id=user, event_type=event_type,
                                                        subscription_id=sub.id, webhook_id=target or "")
            stats.created += 1
    return stats


def apply_profile_event(envelope: Envelope) -> tuple[bool, str]:
    """Apply a requester's profile.update.* event to their X identity; (applied, why)."""
    field = IDENTITY_FIELDS.get(envelope.event_type)
    if field is None:
        return False, f"{envelope.event_type} is not kept for requesters"
    value = profile_value(envelope)
    limit = Identity._meta.get_field(field).max_length
    updated = update_identity_profile(Identity.Kind.X, envelope.for_user_id, **{field: value[:limit]})
    if not updated:
        return False, "Not a requester's profile (any more): nothing kept"
    return True, f"Requester's {field.replace('_', ' ')} updated"


def forget_erased(x_user_ids: list[str]) -> int:
    """An erased requester's subscriptions no longer name them; the next sync removes them at X."""
    return RequesterProfileSubscription.objects.filter(x_user_id__in=x_user_ids).update(x_user_id="")
