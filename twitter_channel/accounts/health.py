"""What the X accounts page says about each account's intake: how items arrive right now
(polling, or pushed by X with polling reconciling), or why they do not."""

from __future__ import annotations

from dataclasses import dataclass

from twitter_channel.models import StreamCursor, XAccount

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
