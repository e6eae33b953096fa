"""The X channel's part of a requester's export and erasure (`tickets.privacy`): the items
fetched from or about them (raw JSON included), the events X pushed with them, and what
the brand sent them."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from tickets.mail.scrub import replace_texts
from tickets.models import Identity
from tickets.privacy import PersonalData
from twitter_channel.models import ActivityEvent, IncomingItem, OutgoingMessage
from twitter_channel.realtime.requester_profiles import forget_erased


def _their_items(data: PersonalData):
    return IncomingItem.objects.filter(
        Q(author_x_id__in=data.ids_of(Identity.Kind.X)) | Q(ticket_id__in=data.ticket_ids)
    )


def export_x(data: PersonalData) -> dict[str, Any]:
    return {
        "items": [
            {"kind": i.kind, "x_id": i.x_id, "fetched_at": i.fetched_at, "author_handle": i.author_handle,
             "text": i.text, "raw": i.raw}
            for i in _their_items(data).order_by("pk")
        ],
        "messages_sent_to_them": [
            {"kind": m.kind, "text": m.text, "x_id": m.x_id, "sent_at": m.sent_at}
            for m in OutgoingMessage.objects.filter(comment__ticket_id__in=data.ticket_ids).order_by("pk")
        ],
    }


def erase_x(data: PersonalData) -> None:
    items = list(_their_items(data))
    x_ids = {i.x_id for i in items}
    # Blank ids of the conversation too: a later DM of theirs then opens a new ticket.
    data.counts["x_items"] = _their_items(data).update(
        raw={"erased": True}, text="", urls=[], mentioned_usernames=[], media=[], author_x_id="", author_handle="",
        author_name="", author_avatar_url="", author_followers=None, conversation_key="", in_reply_to_id="",
        state_reason="",
    )
    for message in OutgoingMessage.objects.filter(comment__ticket_id__in=data.ticket_ids):
        message.text = data.scrub(message.text)
        message.recipient_x_id = message.dm_conversation_id = ""
        message.error = data.scrub(message.error)
        message.save(update_fields=["text", "recipient_x_id", "dm_conversation_id", "error"])
    _erase_mentions_in_others_items(data)
    erased = 0
    x_user_ids = data.ids_of(Identity.Kind.X)
    needles = [*x_ids, *x_user_ids, *data.texts]
    if needles:
        query = Q()
        for needle in needles:
            query |= Q(body__contains=needle)
        for event in ActivityEvent.objects.filter(query):
            event.body = f'{{"event_uuid": "{event.event_id}", "erased": true}}'
            event.detail = data.scrub(event.detail)
            event.save(update_fields=["body", "detail"])
            erased += 1
    data.counts["x_events"] = erased
    # Their profile subscriptions stop naming them; the next sync removes them at X.
    forget_erased(x_user_ids)


def _erase_mentions_in_others_items(data: PersonalData) -> None:
    """Other people's posts that name the person: the text and raw JSON lose the name, and
    the person's handle leaves the list of mentioned users."""
    handles = {i.handle.lower() for i in data.identities if i.kind == Identity.Kind.X and i.handle}
    query = Q()
    for text in data.mentions:
        query |= Q(text__icontains=text) | Q(raw_text__icontains=text)
    for handle in handles:
        query |= Q(raw_text__icontains=handle)
    if not query:
        return
    found = IncomingItem.objects.annotate(raw_text=Cast("raw", TextField())).filter(query)
    for item in found:
        item.text = data.scrub_mentions(item.text)
        raw = json.dumps(item.raw, ensure_ascii=False)
        item.raw = json.loads(replace_texts(raw, [*data.mentions, *sorted(handles, key=len, reverse=True)], "erased"))
        item.mentioned_usernames = [u for u in item.mentioned_usernames if u.lower() not in handles]
        item.save(update_fields=["text", "raw", "mentioned_usernames"])
