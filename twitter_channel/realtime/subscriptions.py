"""Holding an account's Activity API subscriptions with X, and switching its intake mode.

Real time means: the app's webhook is registered (webhook mode) and X holds one subscription
per event type the helpdesk takes (`events.SUBSCRIPTIONS`, less any optional one X refused)
filtered on the account's user id;
in stream mode the subscriptions name no webhook and their events arrive on the app's
`GET /2/activity/stream`. Polling keeps running in every mode (slower in real time) and is
what the account falls back on whenever X refuses any of this.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from twitter_channel.accounts.connection import app_client, fresh_client_for, webhook_url
from twitter_channel.models import XAccount
from twitter_channel.realtime.models import ActivitySubscription
from twitter_channel.x.activity_events import OPTIONAL_SUBSCRIPTIONS, REPLY_EVENT, SUBSCRIPTIONS
from twitter_channel.x.activity_types import Webhook
from twitter_channel.x.types import XBadRequest, XError, XNotFound

log = logging.getLogger(__name__)

Mode = XAccount.IntakeMode
TAG_PREFIX = "helpdesk:"  # the tag of every subscription the helpdesk makes: "helpdesk:<account pk>"


def ensure_webhook(app) -> Webhook:
    """The app's webhook for this helpdesk's URL, registered once (X checks it with a CRC)."""
    url = webhook_url()
    for hook in app.list_webhooks():
        if hook.url == url:
            if not hook.valid and not app.validate_webhook(hook.id):
                raise XError(f"X could not validate the webhook at {url} (CRC check failed)")
            return hook
    return app.create_webhook(url)


def switch_intake_mode(account: XAccount, mode: str, *, app=None, user_client=None) -> XAccount:
    """Subscribe (or unsubscribe) the account and record its new mode. On any X error the
    subscriptions made so far are removed again and the account stays as it was, except for a
    400 on an optional subscription (`events.OPTIONAL_SUBSCRIPTIONS`): real time goes on without it."""
    if mode not in Mode.values:
        raise ValueError(f"unknown intake mode {mode!r}")
    if mode == Mode.POLLING:
        remove_subscriptions(account.pk, app=app)
        XAccount.objects.filter(pk=account.pk).update(intake_mode=Mode.POLLING, realtime_since=None)
        account.refresh_from_db()
        return account

    app = app or app_client()
    webhook_id = ensure_webhook(app).id if mode == Mode.WEBHOOK else ""
    remove_subscriptions(account.pk, app=app)  # switching webhook <-> stream: start clean
    remove_orphans(account, app=app)
    user_client = user_client or fresh_client_for(account)
    made: list[ActivitySubscription] = []
    try:
        for entries in SUBSCRIPTIONS.values():
            for event_type, direction in entries:
                try:
                    sub = user_client.create_activity_subscription(
                        event_type, account.user_id, direction=direction, webhook_id=webhook_id,
                        tag=f"{TAG_PREFIX}{account.pk}",
                    )
                except XBadRequest as exc:
                    if (event_type, direction) not in OPTIONAL_SUBSCRIPTIONS:
                        raise
                    _log_refused_optional(account, event_type, exc)
                    continue
                made.append(ActivitySubscription(account=account, subscription_id=sub.id, event_type=event_type,
                                                 direction=direction, webhook_id=webhook_id))
    except XError:
        for row in made:
            _delete_at_x(app, row.subscription_id)
        raise
    with transaction.atomic():
        ActivitySubscription.objects.bulk_create(made)
        XAccount.objects.filter(pk=account.pk).update(
            intake_mode=mode, realtime_since=account.realtime_since or timezone.now()
        )
    account.refresh_from_db()
    log.info("%s now takes events in real time (%s), %d subscriptions", account, mode, len(made))
    return account


def remove_subscriptions(account_id: int, *, app=None) -> int:
    """Delete the account's subscriptions at X (already gone counts as deleted) and here."""
    rows = list(ActivitySubscription.objects.filter(account_id=account_id))
    if not rows:
        return 0
    app = app or app_client()
    for row in rows:
        _delete_at_x(app, row.subscription_id)
    ActivitySubscription.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


def remove_orphans(account: XAccount, *, app) -> int:
    """Delete the subscriptions X holds for the account under our tag that we have no row for
    (a crash between X's answer and our commit, an older database restored): each would go on
    delivering, and billing, events nobody here asked for. Others' subscriptions are left alone."""
    ours = set(ActivitySubscription.objects.filter(account=account).values_list("subscription_id", flat=True))
    orphans = [sub for sub in app.list_activity_subscriptions()
               if sub.user_id == account.user_id and sub.tag.startswith(TAG_PREFIX) and sub.id not in ours]
    for sub in orphans:
        _delete_at_x(app, sub.id)
    if orphans:
        log.warning("Removed %d subscription(s) X held for %s that the helpdesk had no record of", len(orphans), account)
    return len(orphans)


def replay_window(from_time: datetime, to_time: datetime, *, app=None) -> str:
    """Ask X to deliver again every webhook event of a window (after an outage of ours); the
    event ids make redelivered events that we already hold harmless."""
    app = app or app_client()
    return app.replay_webhook(ensure_webhook(app).id, from_time, to_time)


def _log_refused_optional(account: XAccount, event_type: str, exc: XBadRequest) -> None:
    consequence = ("replies to its posts arrive as mentions instead (X puts a reply in the mentions "
                   "of the account it answers)" if event_type == REPLY_EVENT else "real time goes on without it")
    log.warning("X refused the optional %s subscription for %s (%s); %s", event_type, account,
                exc.detail or type(exc).__name__, consequence)


def _delete_at_x(app, subscription_id: str) -> None:
    try:
        app.delete_activity_subscription(subscription_id)
    except XNotFound:
        pass

