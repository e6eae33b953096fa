"""Polling as the safety net of real time: what a reconciliation poll finds that push missed.

While an account takes events in real time, an item a poll stores *first* may be one the push
path did not deliver (a dropped webhook, a stream gap longer than its backfill), or one whose
event was in flight at that very moment. The poll stamps it (`polled_before_push_at`); push
clears the stamp if it brings the item after all. What is still stamped after a grace period
was missed by push, and the account page counts it (`accounts.health.missed_by_push`). Items older than the switch to real time are
not stamped (push never promised them), except likes: a like's time is not the liked post's,
so any like first seen by a poll is.
"""

from __future__ import annotations

from django.utils import timezone

from twitter_channel.models import IncomingItem, XAccount


def is_realtime(account: XAccount) -> bool:
    return account.intake_mode != XAccount.IntakeMode.POLLING


def stamp_unseen(account: XAccount, rows: list[IncomingItem]) -> None:
    """Call before `store_items` in a poll: stamp the rows not stored yet that push should
    have brought (nothing, when the account only polls)."""
    if not is_realtime(account) or not rows:
        return
    known = set(
        IncomingItem.objects.filter(account=account, x_id__in={r.x_id for r in rows}).values_list("kind", "x_id")
    )
    since, now = account.realtime_since, timezone.now()
    for row in rows:
        if (row.kind, row.x_id) not in known and (
            row.kind == IncomingItem.Kind.LIKE or since is None or row.x_created_at is None or row.x_created_at >= since
        ):
            row.polled_before_push_at = now


def push_brought(account_id: int, rows: list[IncomingItem]) -> int:
    """Push delivered items that were stored already: any a poll stamped was not missed after all."""
    if not rows:
        return 0
    return IncomingItem.objects.filter(
        account_id=account_id, x_id__in={r.x_id for r in rows}, polled_before_push_at__isnull=False
    ).update(polled_before_push_at=None)


def poll_floor_seconds(account: XAccount, default: float, reconcile: float) -> float:
    """Real-time accounts poll only to reconcile: no more often than `reconcile` seconds."""
    return max(default, reconcile) if is_realtime(account) else default
