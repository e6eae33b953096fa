"""The web process's side of the bus: tail `LiveEvent` and hand each batch to the sockets.

One feed per process, started by the first socket that connects. It reads the rows newer
than the last one it saw every POLL_SECONDS (one indexed query: nothing new costs almost
nothing), computes every socket's messages in one trip to the ORM (live/audience.py) and
sends them. Why a table rather than only a channel layer: most changes are made by Celery
workers, which would otherwise need Redis and async glue to publish; `make run` has no
Redis at all; and a table behaves the same in both, so there is one path to test. Redis,
when configured, carries presence and typing between web processes (the channel layer).

The feed also keeps every socket of the process honest, every LIVE_HEARTBEAT_SECONDS: it
pings each one (the page answers), closes those silent for LIVE_SILENCE_SECONDS (they
vanished without a close frame: a laptop lid, a dropped network) or whose sign-in ended,
and refreshes the presence rows of its live ticket pages while sweeping the rows nobody
refreshed (another process died) and telling those tickets' screens. Sign-off events
(live/signoff.py) close the sockets they name before anything else in their batch is sent.

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
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from . import signoff
from .audience import (
    QUEUE_PRESENCE_GROUP,
    TICKET_PAGE,
    Batch,
    Subscription,
    plan,
    plan_counts,
    ticket_group,
    touch_and_expire_viewers,
)
from .models import LiveEvent, Viewer

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
GAP_SECONDS = 10.0
MAX_GAP = 1000
KEEP_EVENTS = timedelta(hours=1)
PRUNE_EVERY_SECONDS = 300.0


class Feed:
    def __init__(self) -> None:
        self.sockets: set = set()  # every open socket's consumer in this process
        self.subscribers: dict[Subscription, object] = {}  # subscription -> its consumer
        self.last_id: int | None = None
        self.gaps: dict[int, float] = {}  # missing id -> when first missed
        self.task: asyncio.Task | None = None
        self.pruned_at = 0.0
        self.beat_at = 0.0

    def connect(self, consumer) -> None:
        self.sockets.add(consumer)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            # (A new event loop means the old one, and the task in it, are gone: tests, reloads.)
            if self.task is not None and self.task.get_loop() is not loop:
                self.last_id, self.gaps = None, {}
            self.beat_at = time.monotonic()
            self.task = loop.create_task(self._run())

    def disconnect(self, consumer) -> None:
        self.sockets.discard(consumer)
        self.remove(consumer.sub)

    def add(self, sub: Subscription, consumer) -> None:
        self.subscribers[sub] = consumer

    def remove(self, sub: Subscription) -> None:
        self.subscribers.pop(sub, None)

    async def _run(self) -> None:
        if self.last_id is None:
            self.last_id = await database_sync_to_async(_latest_id)()
        while self.sockets:
            try:
                await self.tick()
                if time.monotonic() - self.beat_at >= settings.LIVE_HEARTBEAT_SECONDS:
                    self.beat_at = time.monotonic()
                    await self.beat()
            except Exception:  # a database hiccup must not end the feed for every socket
                log.exception("Live feed tick failed")
                await asyncio.sleep(1.0)
            await asyncio.sleep(POLL_SECONDS)

    async def tick(self) -> None:
        events, self.last_id, self.gaps = await database_sync_to_async(read_new)(self.last_id or 0, self.gaps)
        signoffs = [e for e in events if e.kind == LiveEvent.Kind.SIGNOFF]
        if signoffs:
            # First: a socket whose sign-in ended hears nothing more, not even this batch.
            for consumer in list(self.sockets):
                if any(signoff.ends(event, consumer.sign_in) for event in signoffs):
                    await consumer.end(CLOSE_SIGNED_OUT)
            events = [e for e in events if e.kind != LiveEvent.Kind.SIGNOFF]
        if events and self.subscribers:
            subs, batch = list(self.subscribers), Batch()
            messages, recount = await database_sync_to_async(plan)(events, subs, batch)
            await self._send(messages)
            # The counters after the rows: they cost a few counts per distinct view and can wait.
            if recount:
                await self._send(await database_sync_to_async(plan_counts)(recount, batch))
        if time.monotonic() - self.pruned_at > PRUNE_EVERY_SECONDS:
            self.pruned_at = time.monotonic()
            await database_sync_to_async(prune)()

    async def beat(self) -> None:
        silent_since = time.monotonic() - settings.LIVE_SILENCE_SECONDS
        for consumer in list(self.sockets):
            if consumer.heard_at < silent_since:
                await consumer.end(CLOSE_SILENT)
        sockets = list(self.sockets)
        ticket_pages = [c.channel_name for c in sockets if c.sub.page == TICKET_PAGE]
        ended, expired = await database_sync_to_async(_check_sockets)([c.sign_in for c in sockets], ticket_pages)
        for consumer in sockets:
            if consumer.sign_in in ended:
                await consumer.end(CLOSE_SIGNED_OUT)
        layer = get_channel_layer()
        for ticket_id in expired:
            await layer.group_send(ticket_group(ticket_id), {"type": "presence.changed"})
            await layer.group_send(QUEUE_PRESENCE_GROUP, {"type": "presence.queue", "ticket": ticket_id})
        for consumer in list(self.sockets):
            await _quietly(consumer.send_json({"type": "ping", "every": settings.LIVE_HEARTBEAT_SECONDS}))

    async def _send(self, messages) -> None:
        for sub, message in messages:
            consumer = self.subscribers.get(sub)
            if consumer is not None:
                await _quietly(consumer.send_json(message))


# Close codes the page understands (live.js): signed out (it stops unless still signed in),
# silent (it reconnects).
CLOSE_SIGNED_OUT = 4401
CLOSE_SILENT = 4408


async def _quietly(sending) -> None:
    try:
        await sending
    except Exception:  # the socket closed meanwhile; its disconnect removes it
        log.debug("Live message to a closed socket dropped", exc_info=True)


def _check_sockets(sign_ins: list[signoff.SignIn], ticket_pages: list[str]) -> tuple[set, list[int]]:
    return signoff.signed_out(sign_ins) if sign_ins else set(), touch_and_expire_viewers(ticket_pages)


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


def prune() -> None:
    cutoff = timezone.now() - KEEP_EVENTS
    LiveEvent.objects.filter(created_at__lt=cutoff).delete()
    # A backstop: every heartbeat's sweep already removed rows untouched for a while.
    Viewer.objects.filter(seen_at__lt=cutoff).delete()


feed = Feed()
