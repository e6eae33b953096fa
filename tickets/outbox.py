"""The outbox: every message the helpdesk sends (an X post or DM, an email) is a row written
in the same transaction as the agent's comment, before anything leaves.

A task is queued after commit to deliver it, but the row, not the task, is the promise. When
the broker is down at that moment the queueing is logged and dropped (the agent's request
still succeeds: the reply is saved and shown as queued); when a worker dies mid-task, or the
database went away under it, the row stays behind. The sweeper (`sweep_outboxes`, run by
beat every OUTBOX_SWEEP_SECONDS) queues again every row whose task never ran or died.

Each channel's delivery claims its row under a row lock and marks it SENDING before the
message leaves, so a second task for the same row (a sweep racing a slow queue, two beats)
steps aside: sweeping more often than needed doubles nothing.

Channels register their outbox (`register_outbox`) with its delivery task from their
AppConfig.ready, as they register their sender: the core never imports its extensions, and a
channel's own code queues a row through `queue_delivery` without importing its tasks module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)

# Rows one sweep queues per outbox: a backlog after a long outage drains over a few ticks
# instead of flooding the broker in one go.
SWEEP_BATCH = 500


class Outbox(models.Model):
    """The delivery record every outgoing message shares; channels add what they send."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        # An attempt is in flight, or its worker died in it: nobody knows whether it got out.
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    # True from the moment a request may have left until its outcome is known; the next
    # attempt then makes sure the message is not out already before sending it again.
    outcome_unknown = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a queued row is due: now when written, later after a back-off. The sweeper takes
    # queued rows whose time passed a grace period ago (their task was lost).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def requeue(self, *, stale_before) -> bool:
        """A person's "retry" of a locked row: a message not sent yet (failed, waiting for its
        next attempt, or stuck in SENDING since before `stale_before`) is queued again with its
        attempts counted afresh; a stuck attempt's outcome becomes unknown, so the next one looks
        before it sends. False, and nothing written, for a row that is sent or still in flight."""
        stuck = self.state == self.State.SENDING and (self.last_attempt_at is None or self.last_attempt_at < stale_before)
        if self.state not in (self.State.FAILED, self.State.QUEUED) and not stuck:
            return False
        self.outcome_unknown = self.outcome_unknown or stuck
        self.state = self.State.QUEUED
        self.attempts = 0
        self.error = ""
        self.next_attempt_at = timezone.now()
        self.save(update_fields=["state", "attempts", "error", "outcome_unknown", "next_attempt_at"])
        return True


def delivery_shown(state: str, outcome_unknown: bool) -> str:
    """The comment's delivery badge for an outbox row's state (`Comment.Delivery`)."""
    if state == Outbox.State.QUEUED and outcome_unknown:
        return "unknown"  # waiting for the next attempt, which looks before it resends
    return state


def enqueue_after_commit(task, *args, countdown: float | None = None) -> None:
    """Queue `task(*args)` once the current transaction commits, never failing the caller.

    The row is already committed when this runs, so a broker that is down (or any other
    failure to publish) costs only time: it is logged, and the sweeper queues the row later.
    """

    def publish() -> None:
        try:
            task.apply_async(args, countdown=countdown)
        except Exception:  # noqa: BLE001 - whatever the broker raised, the outbox row is the promise
            log.warning("Could not queue %s%r; the outbox sweeper will pick it up", task.name, args, exc_info=True)

    transaction.on_commit(publish)


def claim(model: type[Outbox], pk, *, stale_seconds: float, related: tuple[str, ...] = ()) -> Outbox | None:
    """Mark an attempt on the row (committed) before the message leaves; None when the row is
    not ours to send now: settled already, or another worker's attempt is in flight (locked,
    or SENDING and younger than `stale_seconds`). An attempt older than that never answered
    (its worker died): the row is taken over, with `outcome_unknown` still set."""
    stale = timezone.now() - timedelta(seconds=stale_seconds)
    with transaction.atomic():
        row = model.objects.select_for_update(skip_locked=True, of=("self",)).select_related(*related).filter(
            pk=pk).first()
        if row is None or row.state in (Outbox.State.SENT, Outbox.State.FAILED):
            return None
        if row.state == Outbox.State.SENDING and row.last_attempt_at and row.last_attempt_at >= stale:
            return None
        if row.state == Outbox.State.SENDING:
            log.warning("%s %s: the attempt of %s never answered; trying again", model.__name__, pk,
                        row.last_attempt_at)
        row.state = Outbox.State.SENDING
        row.outcome_unknown = True
        row.attempts += 1
        row.last_attempt_at = timezone.now()
        row.save(update_fields=["state", "outcome_unknown", "attempts", "last_attempt_at"])
    return row


def settle(row: Outbox, state: str, error: str = "", *, next_attempt_in: float | None = None) -> None:
    """Record what the attempt ended with: sent, failed for good, or queued again after a wait."""
    row.state = state
    row.error = error[:2000]
    # Whatever the server answered, it answered: the message is in or it is not.
    row.outcome_unknown = False
    fields = ["state", "error", "outcome_unknown"]
    if state == Outbox.State.SENT:
        row.sent_at = timezone.now()
        fields.append("sent_at")
    if next_attempt_in is not None:
        row.next_attempt_at = timezone.now() + timedelta(seconds=next_attempt_in)
        fields.append("next_attempt_at")
    row.save(update_fields=fields)


@dataclass(frozen=True)
class RegisteredOutbox:
    model: type[Outbox]
    task: object  # the Celery task delivering one row, given the row's id
    stale_seconds: Callable[[], float]  # an attempt older than this without an answer is dead


_outboxes: dict[str, RegisteredOutbox] = {}


def register_outbox(model: type[Outbox], task, *, stale_seconds: Callable[[], float]) -> None:
    _outboxes[model._meta.label] = RegisteredOutbox(model, task, stale_seconds)


def queue_delivery(model: type[Outbox], pk, *, countdown: float | None = None) -> None:
    """Queue the delivery of one row, after commit, with the task its channel registered
    (`enqueue_after_commit`: a broker that is down never fails the caller)."""
    enqueue_after_commit(_outboxes[model._meta.label].task, pk, countdown=countdown)


def registered_outboxes() -> list[type[Outbox]]:
    """Every channel's outbox model (monitoring reports their depth and age)."""
    return [outbox.model for outbox in _outboxes.values()]


def rows_to_sweep(outbox: RegisteredOutbox, now=None) -> list[int]:
    """Queued rows whose task should have run a grace period ago, and attempts that never
    answered (their worker died, or the database went away under it)."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    stale = timedelta(seconds=outbox.stale_seconds())
    state = Outbox.State
    due = Q(state=state.QUEUED, next_attempt_at__lte=now - grace) | Q(
        state=state.SENDING, last_attempt_at__lt=now - stale
    )
    return list(outbox.model.objects.filter(due).order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])


def sweep_outboxes(now=None) -> int:
    """Queue every row left behind, in every registered outbox; returns how many.

    Publishing is left to fail loudly here: a broker that is down makes this beat tick fail,
    and the next tick tries again."""
    queued = 0
    for outbox in _outboxes.values():
        pks = rows_to_sweep(outbox, now)
        for pk in pks:
            outbox.task.delay(pk)
            queued += 1
        # A swept row waits a whole grace period again before the next sweep queues it: behind
        # a long backlog its task may simply not have run yet, and one more copy per tick would
        # only lengthen the backlog.
        outbox.model.objects.filter(pk__in=pks, state=Outbox.State.QUEUED).update(next_attempt_at=timezone.now())
    if queued:
        log.info("Outbox sweep queued %d message(s) left behind", queued)
    return queued
