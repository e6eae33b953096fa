"""Polling as the safety net of real time: what a reconciliation poll finds that push missed.

While an account takes events in real time, every item a poll stores *first* is one the push
path did not deliver (a dropped webhook, a stream gap longer than its backfill). Polls count
them on the account (`push_missed_by_poll`, shown on its page). Items older than the switch to
real time are not counted (push never promised them), except likes: a like's time is not the
liked post's, so any like first seen by a poll counts.

The count can overstate by the events in flight at the very moment of a poll (stored by push a
few milliseconds later); reconciliation polls are minutes apart, so that is rare.
"""

from __future__ import annotations

from django.db.models import F

from ..models import IncomingItem, XAccount


def is_realtime(account: XAccount) -> bool:
    return account.intake_mode != XAccount.IntakeMode.POLLING


def unseen_before_store(account: XAccount, rows: list[IncomingItem]) -> list[IncomingItem] | None:
    """Call before `store_items` in a poll: the rows not stored yet that push should have
    brought; None when the account only polls (nothing to reconcile)."""
    if not is_realtime(account) or not rows:
        return None
    known = set(
        IncomingItem.objects.filter(account=account, x_id__in={r.x_id for r in rows}).values_list("kind", "x_id")
    )
    since = account.realtime_since
    return [
        r for r in rows
        if (r.kind, r.x_id) not in known
        and (r.kind == IncomingItem.Kind.LIKE or since is None or r.x_created_at is None or r.x_created_at >= since)
    ]


def count_missed_by_push(account: XAccount, unseen: list[IncomingItem] | None, stored: int) -> int:
    if not unseen or not stored:
        return 0
    missed = min(len({(r.kind, r.x_id) for r in unseen}), stored)
    XAccount.objects.filter(pk=account.pk).update(push_missed_by_poll=F("push_missed_by_poll") + missed)
    return missed


def poll_floor_seconds(account: XAccount, default: float, reconcile: float) -> float:
    """Real-time accounts poll only to reconcile: no more often than `reconcile` seconds."""
    return max(default, reconcile) if is_realtime(account) else default
