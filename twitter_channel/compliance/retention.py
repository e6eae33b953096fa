"""Raw X JSON is kept `RAW_RETENTION_DAYS` days: after that an item keeps its parsed fields
(text, author, ids, dates: what conversion and the pages use) and its raw JSON shrinks to
its id; a pushed event's body shrinks to its id and type (the row stays: it is the
exactly-once key of the event)."""

from __future__ import annotations

import json
from datetime import datetime

from django.db.models import Value
from django.db.models.functions import JSONObject

from twitter_channel.models import ActivityEvent, IncomingItem

EXPIRED = "raw JSON deleted after the retention period"


def delete_raw_x_json_before(cutoff: datetime) -> tuple[int, int]:
    items = (
        IncomingItem.objects.filter(fetched_at__lt=cutoff)
        .exclude(raw__has_key="expired").exclude(raw__has_key="redacted").exclude(raw__has_key="erased")
        .update(raw=JSONObject(id="x_id", expired=Value(EXPIRED)))
    )
    events = 0
    for event in ActivityEvent.objects.filter(received_at__lt=cutoff).exclude(body__contains=EXPIRED).iterator():
        event.body = json.dumps({"event_uuid": event.event_id, "event_type": event.event_type, "expired": EXPIRED})
        event.save(update_fields=["body"])
        events += 1
    return items, events
