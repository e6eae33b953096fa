"""What the X accounts page says about each account's intake: how items arrive right now
(polling, or pushed by X with polling reconciling), or why they do not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from twitter_channel.accounts.connection import webhook_url
from twitter_channel.models import IncomingItem, StreamCursor, WebhookHealth, XAccount

# Push has this long to bring an item a poll stored first (`intake.reconcile` stamps it)
# before the item counts as missed.
PUSH_GRACE = timedelta(minutes=1)

MODE_LABELS = {
    XAccount.IntakeMode.POLLING: "Polling",
    XAccount.IntakeMode.WEBHOOK: "Real time: webhook",
    XAccount.IntakeMode.STREAM: "Real time: stream",
}


@dataclass(frozen=True)
class IntakeState:
    label: str
    tone: str  # a badge modifier: "ok", "waiting", "paused" or "danger"
    detail: str = ""


def intake_state(account: XAccount, cursors: list[StreamCursor | None]) -> IntakeState:
    if account.needs_reconnect:
        return IntakeState("Reconnect needed", "danger")
    if not account.is_active:
        return IntakeState("Paused" if account.access_token else "Disconnected", "paused")
    captured = [c for c in cursors if c is not None and account.captures(c.stream)]
    if not any(c.last_success_at or c.consecutive_failures or c.last_error for c in captured):
        # A freshly connected account: nothing has gone wrong, nothing has run yet.
        return IntakeState("Waiting for the first poll", "waiting")
    if account.intake_mode == XAccount.IntakeMode.POLLING:
        return IntakeState(MODE_LABELS[account.intake_mode], "ok")
    return IntakeState(MODE_LABELS[account.intake_mode], "ok", "polling reconciles")


def missed_by_push(account: XAccount, *, now: datetime | None = None) -> int:
    """Items push has not brought within `PUSH_GRACE` of a poll storing them."""
    cutoff = (now or timezone.now()) - PUSH_GRACE
    return IncomingItem.objects.filter(account=account, polled_before_push_at__lte=cutoff).count()


def webhook_health() -> WebhookHealth | None:
    """What the last watch of the app's webhook found (`realtime.watch`)."""
    return WebhookHealth.objects.filter(url=webhook_url()).first()
