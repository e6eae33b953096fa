"""Noticing that X could not reach our webhook, and having X deliver again what it missed.

X delivers a webhook event once: while our endpoint is down (a deploy, a crash, a broken
proxy or certificate) its deliveries are lost to us, and `/2/webhooks/replay` is how they come
back. Every `X_WEBHOOK_WATCH_SECONDS` the watcher does what X's own check does, a CRC challenge
to the public webhook URL, and remembers the last good answer. When the webhook answers again
after failing, or after a silence of several watch intervals (the whole helpdesk was down, the
watcher with it), it asks X to replay the window from the last good answer to now. Replayed
events we already hold are duplicates by event id and change nothing; reconciliation polls
remain the net under everything else.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from twitter_channel.accounts.connection import RealtimeUnavailable, webhook_url
from twitter_channel.models import XAccount
from twitter_channel.realtime import subscriptions
from twitter_channel.realtime.models import WebhookHealth
from twitter_channel.realtime.signatures import crc_response_token
from twitter_channel.x.types import XError

log = logging.getLogger(__name__)

# Missing this many watch intervals in a row counts as an outage of the whole helpdesk.
SILENT_INTERVALS = 3
# Replay from a little before the last good answer: an event X sent just then may have failed.
MARGIN = timedelta(minutes=1)
MAX_REPLAY = timedelta(hours=24)  # X replays at most the last 24 hours
CHECK_TIMEOUT = 10.0


def crc_check(url: str) -> str:
    """Challenge the webhook as X does; returns what went wrong, or "" when it answered right."""
    token = secrets.token_urlsafe(24)
    try:
        response = requests.get(url, params={"crc_token": token}, timeout=CHECK_TIMEOUT)
    except requests.RequestException as exc:
        return f"unreachable: {type(exc).__name__}"
    if response.status_code != 200:
        return f"answered HTTP {response.status_code}"
    try:
        answer = response.json().get("response_token")
    except (ValueError, AttributeError):
        return "answered something that is not the CRC's JSON"
    if not isinstance(answer, str) or not hmac.compare_digest(answer, crc_response_token(token)):
        return "answered the CRC with a wrong token (is X_WEBHOOK_CONSUMER_SECRET the app's?)"
    return ""


def watch_webhook(*, now: datetime | None = None, check=crc_check, app=None) -> str:
    """Check the webhook once; replay what X may have lost if it has just come back.
    Returns "idle" (no account takes webhooks), "busy" (another watch is running), "ok", "down",
    "replayed" or "replay refused"."""
    if not XAccount.objects.filter(intake_mode=XAccount.IntakeMode.WEBHOOK, is_active=True).exists():
        return "idle"
    now = now or timezone.now()
    health, _ = WebhookHealth.objects.get_or_create(url=webhook_url())
    with transaction.atomic():
        # Two watches at once (two beats, or a slow watch overlapping the next tick) would
        # both ask X to replay the same window: the second steps aside, and a later one
        # reads what the first recorded.
        health = WebhookHealth.objects.select_for_update(skip_locked=True).filter(pk=health.pk).first()
        if health is None:
            return "busy"
        return _watch(health, now, check, app)


def _watch(health: WebhookHealth, now: datetime, check, app) -> str:
    rows = WebhookHealth.objects.filter(pk=health.pk)
    error = check(health.url)
    if error:
        if health.down_since is None:
            log.warning("X webhook %s fails its check: %s", health.url, error)
        rows.update(checked_at=now, last_error=error, down_since=health.down_since or health.last_ok_at or now)
        return "down"

    missed_from = health.down_since or _silent_since(health, now)
    if missed_from is None:
        rows.update(checked_at=now, last_ok_at=now, last_error="")
        return "ok"
    start = max(missed_from - MARGIN, now - MAX_REPLAY)
    try:
        job = subscriptions.replay_window(start, now, app=app)
    except (XError, RealtimeUnavailable) as exc:
        # The outage stays open: the next watch asks again.
        detail = getattr(exc, "detail", "") or str(exc)
        log.warning("X refused to replay %s..%s: %s", start, now, detail)
        rows.update(checked_at=now, last_error=f"Replay refused: {detail}"[:2000])
        return "replay refused"
    log.info("X webhook back after an outage since %s: X replays %s..%s (job %s)", missed_from, start, now, job)
    rows.update(checked_at=now, last_ok_at=now, down_since=None, last_error="", replayed_from=start,
                replayed_to=now, replay_job=job)
    return "replayed"


def _silent_since(health: WebhookHealth, now: datetime) -> datetime | None:
    """The last good answer, when no watch has run for several intervals since."""
    if health.last_ok_at is None:
        return None  # the first watch: realtime began now, nothing before it was promised
    silence = timedelta(seconds=SILENT_INTERVALS * settings.X_WEBHOOK_WATCH_SECONDS)
    return health.last_ok_at if now - health.last_ok_at > silence else None
