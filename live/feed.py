"""The web process's side of the bus: tail `LiveEvent` and hand each batch to the sockets.

One feed per process, started by the first socket that connects. It reads the rows newer
than the last one it saw every POLL_SECONDS (one indexed query: nothing new costs almost
nothing), computes every socket's messages in one trip to the ORM (live/audience.py) and
sends them. Why a table rather than only a channel layer: most changes are made by Celery
workers, which would otherwise need Redis and async glue to publish; `make run` has no
Redis at all; and a table behaves the same in both, so there is one path to test. Redis,
when configured, carries presence and typing between web processes (the channel layer).

Ids are handed out when a transaction inserts but become visible when it commits, so a
row with a smaller id can appear after a larger one was read. The feed remembers the ids it
skipped and looks for them again for GAP_SECONDS before giving up on them (a rolled-back
insert leaves a gap forever).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db.models import Max
from django.utils import timezone

from .audience import Batch, Subscription, plan, plan_counts
from .models import LiveEvent, Viewer

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
GAP_SECONDS = 10.0
MAX_GAP = 1000
KEEP_EVENTS = timedelta(hours=1)
PRUNE_EVERY_SECONDS = 300.0


class Feed:
    def __init__(self) -> None:
        self.subscribers: dict[Subscription, object] = {}  # subscription -> its consumer
        self.last_id: int | None = None
        self.gaps: dict[int, float] = {}  # missing id -> when first missed
        self.task: asyncio.Task | None = None
        self.pruned_at = 0.0

    def add(self, sub: Subscription, consumer) -> None:
        self.subscribers[sub] = consumer
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            # (A new event loop means the old one, and the task in it, are gone: tests, reloads.)
            if self.task is not None and self.task.get_loop() is not loop:
                self.last_id, self.gaps = None, {}
            self.task = loop.create_task(self._run())

    def remove(self, sub: Subscription) -> None:
        self.subscribers.pop(sub, None)

    async def _run(self) -> None:
        if self.last_id is None:
            self.last_id = await database_sync_to_async(_latest_id)()
        while self.subscribers:
            try:
                await self.tick()
            except Exception:  # a database hiccup must not end the feed for every socket
                log.exception("Live feed tick failed")
                await asyncio.sleep(1.0)
            await asyncio.sleep(POLL_SECONDS)

    async def tick(self) -> None:
        subs = list(self.subscribers)
        batch = Batch()
        messages, recount, self.last_id, self.gaps = await database_sync_to_async(_read_and_plan)(
            self.last_id or 0, self.gaps, subs, batch
        )
        await self._send(messages)
        # The counters after the rows: they cost a few counts per distinct view and can wait.
        if recount:
            await self._send(await database_sync_to_async(plan_counts)(recount, batch))
        if time.monotonic() - self.pruned_at > PRUNE_EVERY_SECONDS:
            self.pruned_at = time.monotonic()
            await database_sync_to_async(prune)()


    async def _send(self, messages) -> None:
        for sub, message in messages:
            consumer = self.subscribers.get(sub)
            if consumer is not None:
                try:
                    await consumer.send_json(message)
                except Exception:  # the socket closed meanwhile; its disconnect removes it
                    log.debug("Live message to a closed socket dropped", exc_info=True)


def _latest_id() -> int:
    return LiveEvent.objects.aggregate(last=Max("pk"))["last"] or 0


def read_new(last_id: int, gaps: dict[int, float]) -> tuple[list[LiveEvent], int, dict[int, float]]:
    """Events after `last_id` and any of the `gaps` that turned up; the new cursor and gaps."""
    now = time.monotonic()
    gaps = {pk: since for pk, since in gaps.items() if now - since < GAP_SECONDS}
    new = list(LiveEvent.objects.filter(pk__gt=last_id).order_by("pk")[:1000])
    found = list(LiveEvent.objects.filter(pk__in=list(gaps))) if gaps else []
    for event in found:
        gaps.pop(event.pk, None)
    expected = last_id + 1
    for event in new:
        if event.pk - expected <= MAX_GAP:  # a sequence that jumped far (a restore) is no gap to wait for
            for missing in range(expected, event.pk):
                gaps[missing] = now
        expected = event.pk + 1
    if new:
        last_id = new[-1].pk
    return sorted(found + new, key=lambda e: e.pk), last_id, gaps


def _read_and_plan(last_id: int, gaps: dict[int, float], subs: list[Subscription], batch: Batch):
    events, last_id, gaps = read_new(last_id, gaps)
    messages, recount = plan(events, subs, batch)
    return messages, recount, last_id, gaps


def prune() -> None:
    cutoff = timezone.now() - KEEP_EVENTS
    LiveEvent.objects.filter(created_at__lt=cutoff).delete()
    # Pages of a web process that was killed never said goodbye; they stopped counting as
    # viewers after PRESENCE_TIMEOUT_SECONDS and go now.
    Viewer.objects.filter(seen_at__lt=cutoff).delete()


feed = Feed()
