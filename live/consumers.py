"""The agent's socket: one per open page, at /live/ws/.

The page says what it shows ("subscribe": a queue page's path, query and rows, or a
ticket page's id and newest comment); the socket answers with the current state at once
(which is also how a reconnected page resynchronises) and then with every change the
feed finds for it. Ticket pages also announce presence and typing to the ticket's other
viewers through the channel layer (Redis when REDIS_URL is set, so across web processes).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import QueryDict
from django.utils import timezone

from tickets.access import visible_tickets

from . import audience
from .audience import QUEUE_PAGE, TICKET_PAGE, Subscription
from .feed import feed
from .models import FollowedView, Viewer

QUEUE_PRESENCE_GROUP = "live.queue-presence"


def ticket_group(ticket_id: int) -> str:
    return f"live.ticket.{ticket_id}"


class AgentConsumer(AsyncJsonWebsocketConsumer):
    sub: Subscription | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.sub = Subscription(user=user, channel_name=self.channel_name)
        self.groups_joined: list[str] = []
        await self.accept()

    async def disconnect(self, code) -> None:
        if self.sub is None:
            return
        feed.remove(self.sub)
        await self._leave_page()

    async def receive_json(self, content, **kwargs) -> None:
        if self.sub is None or not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "subscribe":
            await self._subscribe(content)
        elif kind == "typing" and self.sub.page == TICKET_PAGE:
            await self.channel_layer.group_send(ticket_group(self.sub.ticket_id), {
                "type": "presence.typing", "user": self.sub.user.pk, "name": str(self.sub.user),
                "typing": bool(content.get("typing")), "sender": self.channel_name,
            })
        elif kind == "ping":
            await database_sync_to_async(_touch)(self.channel_name)
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
            sub.shown = [int(pk) for pk in content.get("shown", []) if str(pk).isdigit()]
        elif page == TICKET_PAGE and str(content.get("ticket", "")).isdigit():
            sub.page = TICKET_PAGE
            sub.ticket_id = int(content["ticket"])
            last = content.get("last_comment")
            sub.last_comment = int(last) if str(last).isdigit() else None
        # Listening first, then reading the state: an event committed while the state is read
        # then reaches this socket too (at worst twice, which pages ignore), never not at all.
        feed.add(sub, self)
        messages = await database_sync_to_async(_state_on_subscribe)(sub)
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
        if self.sub.page != TICKET_PAGE:
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


def _touch(channel_name: str) -> None:
    Viewer.objects.filter(channel_name=channel_name).update(seen_at=timezone.now())


def _follow(user, view: str, on: bool) -> set[str]:
    from tickets.queues import QUEUES

    if view in QUEUES:
        if on:
            FollowedView.objects.get_or_create(user=user, view=view)
        else:
            FollowedView.objects.filter(user=user, view=view).delete()
    return audience.followed_views(user)
