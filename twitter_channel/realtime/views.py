"""Real-time pages: the account page's controls (switch the intake mode, recover a missed
window) and the quarantine's retry of a pushed event that could not be read.

Admins only, like the rest of the accounts pages (`tickets.access.admin_only`: others get a 404)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from tickets.access import admin_only
from tickets.outbox import enqueue_after_commit
from twitter_channel.accounts.connection import RealtimeUnavailable
from twitter_channel.models import ActivityEvent, XAccount
from twitter_channel.realtime import subscriptions
from twitter_channel.realtime.tasks import process_activity_event
from twitter_channel.x.types import XError

log = logging.getLogger(__name__)

REPLAY_HOURS = (1, 6, 24)  # X replays at most the last 24 hours


@admin_only
@require_POST
def switch_mode(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(XAccount, pk=pk)
    mode = request.POST.get("intake_mode", "")
    if mode not in XAccount.IntakeMode.values:
        messages.error(request, "Choose an intake mode.")
        return redirect("twitter_channel:account_settings", pk=pk)
    if not account.is_polling and mode != XAccount.IntakeMode.POLLING:
        messages.error(request, f"{account} must be connected before it can take events in real time.")
        return redirect("twitter_channel:account_settings", pk=pk)
    try:
        subscriptions.switch_intake_mode(account, mode)
    except (XError, RealtimeUnavailable) as exc:
        detail = getattr(exc, "detail", "") or str(exc)
        log.warning("Switching %s to %s failed: %s", account, mode, detail)
        messages.error(request, f"X refused real time for {account}: {detail}. It keeps polling as before.")
        return redirect("twitter_channel:account_settings", pk=pk)
    messages.success(request, f"{account}: {XAccount.IntakeMode(mode).label}.")
    return redirect("twitter_channel:account_settings", pk=pk)


@admin_only
@require_POST
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(XAccount, pk=pk)
    try:
        hours = int(request.POST.get("hours", "1"))
    except ValueError:
        hours = 0
    if hours not in REPLAY_HOURS or account.intake_mode != XAccount.IntakeMode.WEBHOOK:
        messages.error(request, "Replay works for webhook mode, over the last 1, 6 or 24 hours.")
        return redirect("twitter_channel:account_settings", pk=pk)
    now = timezone.now()
    try:
        job = subscriptions.replay_window(now - timedelta(hours=hours), now)
    except (XError, RealtimeUnavailable) as exc:
        messages.error(request, f"X refused the replay: {getattr(exc, 'detail', '') or exc}")
        return redirect("twitter_channel:account_settings", pk=pk)
    messages.success(request, f"X is delivering the last {hours} hour(s) of events again (job {job}).")
    return redirect("twitter_channel:account_settings", pk=pk)


@admin_only
@require_POST
def retry_event(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(ActivityEvent, pk=pk, state=ActivityEvent.State.FAILED)
    ActivityEvent.objects.filter(pk=event.pk).update(state=ActivityEvent.State.NEW, detail="", processed_at=None)
    # With the broker down the event waits as new, and the events sweeper processes it.
    enqueue_after_commit(process_activity_event, event.pk)
    messages.info(request, f"Event {event.event_id} is processed again; if it still fails it comes back here.")
    return redirect("twitter_channel:quarantine")
