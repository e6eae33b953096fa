"""Ticket changes become live events: one `LiveEvent` row per change, written after commit.

Listens to the signals tickets already sends after commit (`ticket_changed` from every
place that opens, changes or comments on a ticket; `delivery_changed` when an outgoing
message is sent or fails), so publishing follows the data, never a template or a view.
The row is the whole cross-process story: a Celery worker needs no channel layer, no
Redis and no event loop to publish; web processes tail the table (live/feed.py).
"""

from __future__ import annotations

import logging
from typing import Any

from tickets.events import delivery_changed, messages_added, ticket_changed, tickets_opened
from tickets.models import Comment, Ticket

from .models import LiveEvent

log = logging.getLogger(__name__)


def on_ticket_changed(sender, *, ticket, created, changes, comment=None, actor=None, **kwargs) -> None:
    _publish(LiveEvent.Kind.TICKET, ticket.pk, _ticket_data(created, changes, comment, actor, kwargs.get("by")))


def on_tickets_opened(sender, *, opened, **kwargs) -> None:
    """Many tickets opened at once (intake at volume): their events in one INSERT."""
    _publish_together([(o.ticket.pk, _ticket_data(True, {}, o.comment, None, o.by)) for o in opened], "new tickets")


def on_messages_added(sender, *, added, **kwargs) -> None:
    """Requesters' messages added at once (intake at volume): their events in one INSERT."""
    _publish_together([(a.ticket.pk, _ticket_data(False, {}, a.comment, None, a.by)) for a in added], "new messages")


def _publish_together(events: list[tuple[int, dict[str, Any]]], what: str) -> None:
    try:
        LiveEvent.objects.bulk_create(
            LiveEvent(kind=LiveEvent.Kind.TICKET, ticket_id=ticket_id, data=data) for ticket_id, data in events
        )
    except Exception:
        log.exception("Could not publish live events for %d %s", len(events), what)


def _ticket_data(created, changes, comment, actor, by) -> dict[str, Any]:
    data: dict[str, Any] = {"created": bool(created), "fields": sorted(changes), "actor": getattr(actor, "pk", None)}
    # Who did it, as people read it: the event log's actor when tickets sends one (a trigger's
    # title, the X intake), else the agent.
    data["by"] = getattr(by, "name", "") or (str(actor) if actor is not None else "")
    if "assignee_id" in changes:
        data["assigned_to"] = changes["assignee_id"][1]
    if comment is not None:
        data["comment"] = comment.pk
        data["from_requester"] = comment.author_user_id is None and comment.author_requester_id is not None
    return data


def on_delivery_changed(sender, *, comment_id, ticket_id, delivery, **kwargs) -> None:
    _publish(LiveEvent.Kind.DELIVERY, ticket_id, {"comment": comment_id, "delivery": delivery})


def _publish(kind: str, ticket_id: int, data: dict[str, Any]) -> None:
    # The change itself is committed; a failure to announce it must not turn into an error
    # for the agent or the worker that made it. Pages still show it on the next load.
    try:
        LiveEvent.objects.create(kind=kind, ticket_id=ticket_id, data=data)
    except Exception:
        log.exception("Could not publish a live event for ticket #%s", ticket_id)


def connect() -> None:
    ticket_changed.connect(on_ticket_changed, sender=Ticket, dispatch_uid="live_ticket_changed")
    tickets_opened.connect(on_tickets_opened, sender=Ticket, dispatch_uid="live_tickets_opened")
    messages_added.connect(on_messages_added, sender=Ticket, dispatch_uid="live_messages_added")
    delivery_changed.connect(on_delivery_changed, sender=Comment, dispatch_uid="live_delivery_changed")
