"""The agent's socket: one per open page, at /live/ws/.

The page says what it shows ("subscribe": a queue page's path, query and rows, or a
ticket page's id and newest comment); the socket answers with the current state at once
(which is also how a reconnected page resynchronises) and then with every change the
feed finds for it. Ticket pages also announce presence and typing to the ticket's other
viewers through the channel layer (Redis when REDIS_URL is set, so across web processes).

Whatever a page sends passes the socket's limits first: a message above
LIVE_MAX_MESSAGE_BYTES closes the socket (1009); beyond a token bucket per socket
(LIVE_MESSAGE_RATE a second, LIVE_MESSAGE_BURST at once) messages are dropped, and so is
anything that is not a JSON object; a socket that keeps sending what is dropped is closed
(4429). The feed pings every socket each heartbeat and closes the silent ones (live/feed.py).
"""

from __future__ import annotations

import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone
from token_bucket import Limiter, MemoryStorage

from tickets.access import visible_tickets

from . import audience
from .audience import QUEUE_PAGE, QUEUE_PRESENCE_GROUP, TICKET_PAGE, Subscription, ticket_group
from .feed import CLOSE_SIGNED_OUT, feed
from .models import FollowedView, Viewer
from .signoff import SignIn, sign_in_of

CLOSE_TOO_BIG = 1009  # RFC 6455: message too big
CLOSE_FLOODING = 4429
# Tokens a message takes from the socket's bucket: a subscription reads and renders a whole
# queue page, which a page asks for once per (re)connection; the rest are cheap.
COST = {"subscribe": 5}


class AgentConsumer(AsyncJsonWebsocketConsumer):
    sub: Subscription | None = None
    ended = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        self.sign_in: SignIn = await database_sync_to_async(sign_in_of)(self.scope)
        self.sub = Subscription(user=user, channel_name=self.channel_name)
        self.groups_joined: list[str] = []
        self.heard_at = time.monotonic()  # the feed's clock
        # One bucket per socket, in its own storage, so it goes with the socket.
        self.allowance = Limiter(settings.LIVE_MESSAGE_RATE, settings.LIVE_MESSAGE_BURST, MemoryStorage())
        self.tolerance = Limiter(1, settings.LIVE_FLOOD_TOLERANCE, MemoryStorage())
        await self.accept()
        feed.connect(self)

    async def disconnect(self, code) -> None:
        if self.sub is None or self.ended:
            return
        self.ended = True
        feed.disconnect(self)
        await self._leave_page()

    async def end(self, code: int) -> None:
        """Close the socket from this side and forget it now: a peer that vanished may never
        finish the closing handshake, and its presence must not wait for that."""
        if self.ended:
            return
        self.ended = True
        feed.disconnect(self)
        try:
            await self._leave_page()
        finally:
            self.sub.page = ""
            await self.close(code=code)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if self.sub is None or self.ended:
            return
        self.heard_at = time.monotonic()  # the feed's clock
        if text_data is None:  # pages send text only
            await self._drop()
            return
        if len(text_data) > settings.LIVE_MAX_MESSAGE_BYTES or len(text_data.encode()) > settings.LIVE_MAX_MESSAGE_BYTES:
            await self.end(CLOSE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            content = None
        if not isinstance(content, dict) or not self.allowance.consume("in", COST.get(content.get("type"), 1)):
            await self._drop()
            return
        await self.receive_json(content)

    async def _drop(self) -> None:
        # A page never sends so much that messages drop for long; a socket that does is not
        # a page we wrote, and is closed rather than served at the rate forever.
        if not self.tolerance.consume("dropped"):
            await self.end(CLOSE_FLOODING)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type")
        if kind == "subscribe":
            await self._subscribe(content)
        elif kind == "typing" and self.sub.page == TICKET_PAGE:
            await self.channel_layer.group_send(ticket_group(self.sub.ticket_id), {
                "type": "presence.typing", "user": self.sub.user.pk, "name": str(self.sub.user),
                "typing": bool(content.get("typing")), "sender": self.channel_name,
            })
        elif kind == "ping":  # (pages before the server pinged them sent these)
            await self.send_json({"type": "pong"})
        elif kind == "follow":
            view = str(content.get("view", ""))
            followed = await database_sync_to_async(_follow)(self.sub.user, view, bool(content.get("on")))
            self.sub.followed = followed
            await self.send_json({"type": "followed", "views": sorted(followed)})

    # --- what the page shows ----------------------------------------------------------------

    async def _subscribe(self, content: dict) -> None:
        await self._leave_page()
        feed.remove(self.sub)
        page = content.get("page")
        sub = self.sub
        sub.page, sub.ticket_id, sub.last_comment, sub.shown = "", None, None, []
        if page == QUEUE_PAGE:
            sub.page = QUEUE_PAGE
            sub.path = str(content.get("path", ""))
            sub.query = QueryDict(str(content.get("query", "")).lstrip("?"))
            sub._params = None
            shown = content.get("shown")
            sub.shown = [int(pk) for pk in shown if str(pk).isdigit()] if isinstance(shown, list) else []
        elif page == TICKET_PAGE and str(content.get("ticket", "")).isdigit():
            sub.page = TICKET_PAGE
            sub.ticket_id = int(content["ticket"])
            last = content.get("last_comment")
            sub.last_comment = int(last) if str(last).isdigit() else None
        # Listening first, then reading the state: an event committed while the state is read
        # then reaches this socket too (at worst twice, which pages ignore), never not at all.
        feed.add(sub, self)
        messages = await database_sync_to_async(_state_on_subscribe)(sub)
        if self.ended:  # closed (signed out, silent) while the state was read
            feed.remove(sub)
            return
        if sub.page == TICKET_PAGE and messages[0]["type"] == "ticket.gone":
            sub.page, sub.ticket_id = "", None
        for message in messages:
            await self.send_json(message)
        if sub.page == TICKET_PAGE:
            await self._join(ticket_group(sub.ticket_id))
            await self._announce_presence()
        elif sub.page == QUEUE_PAGE:
            await self._join(QUEUE_PRESENCE_GROUP)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def _leave_page(self) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []
        if self.sub.page == TICKET_PAGE:
            ticket_id = self.sub.ticket_id
            await database_sync_to_async(Viewer.objects.filter(channel_name=self.channel_name).delete)()
            await self._presence_changed(ticket_id)

    async def _announce_presence(self) -> None:
        await database_sync_to_async(_enter)(self.sub)
        await self._presence_changed(self.sub.ticket_id)

    async def _presence_changed(self, ticket_id: int) -> None:
        await self.channel_layer.group_send(ticket_group(ticket_id), {"type": "presence.changed"})
        await self.channel_layer.group_send(QUEUE_PRESENCE_GROUP, {"type": "presence.queue", "ticket": ticket_id})

    # --- channel layer messages -------------------------------------------------------------

    async def presence_changed(self, message: dict) -> None:
        if self.ended or self.sub.page != TICKET_PAGE:
            return
        viewers = await database_sync_to_async(audience.viewers_of)(self.sub.ticket_id, self.channel_name)
        await self.send_json({"type": "presence", "viewers": viewers})

    async def presence_typing(self, message: dict) -> None:
        if self.sub.page != TICKET_PAGE or message["sender"] == self.channel_name:
            return
        await self.send_json({"type": "typing", "user": message["user"], "name": message["name"],
                              "typing": message["typing"]})

    async def presence_queue(self, message: dict) -> None:
        # Only rows this page shows, which its user may see by construction.
        if self.sub.page != QUEUE_PAGE or message["ticket"] not in self.sub.shown:
            return
        viewing = await database_sync_to_async(audience.viewing_names)([message["ticket"]], self.sub.user)
        await self.send_json({"type": "viewing", "ticket": message["ticket"],
                              "names": viewing.get(str(message["ticket"]), [])})


def _state_on_subscribe(sub: Subscription) -> list[dict]:
    sub.followed = audience.followed_views(sub.user)
    messages: list[dict] = [{"type": "counts", "counts": audience.view_counts(sub.user, audience.Batch())},
                            {"type": "followed", "views": sorted(sub.followed)}]
    if sub.page == QUEUE_PAGE:
        state = audience.queue_state(sub, everything=True)
        if state is None:
            sub.page = ""
        else:
            messages.insert(0, state)
    elif sub.page == TICKET_PAGE:
        messages.insert(0, audience.ticket_state(sub))
    return messages


def _enter(sub: Subscription) -> None:
    # The ticket page was just found visible; presence is only ever kept for such pages.
    if visible_tickets(sub.user).filter(pk=sub.ticket_id).exists():
        Viewer.objects.update_or_create(
            channel_name=sub.channel_name,
            defaults={"ticket_id": sub.ticket_id, "user": sub.user, "seen_at": timezone.now()},
        )


def _follow(user, view: str, on: bool) -> set[str]:
    from tickets.queues import QUEUES

    if view in QUEUES:
        if on:
            FollowedView.objects.get_or_create(user=user, view=view)
        else:
            FollowedView.objects.filter(user=user, view=view).delete()
    return audience.followed_views(user)
