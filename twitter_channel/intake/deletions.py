"""Honouring what authors did to their posts and DMs on X after we stored them.

X's Developer Agreement requires stored content to reflect deletions and edits ("when
someone on X deletes a Post ... or edits a Post, it is critical ... to honor that person's
expectations"). A deletion reaches us by a `post.delete` event (real time) or by the batch
compliance job; either way `redact_deleted` takes the text and media out of every place we
keep it, leaving the ids and a tombstone: the stored items (raw JSON and parsed fields,
wherever they sit: on a ticket, ignored, in quarantine, not converted yet), the raw events
the Activity API pushed, the comment and the ticket's copies of the text
(`tickets.redaction`). Edits are `edits.py`'s.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tickets.models import Comment
from tickets.redaction import redact_comment, tombstone
from twitter_channel.intake.conversion import body_for, subject_for
from twitter_channel.intake.redaction import DM_KINDS, POST_KINDS, redact_item
from twitter_channel.models import ActivityEvent, IncomingItem, XDeletion


def record_deletion(x_id: str, *, source: str, dm: bool = False, deleted_at: datetime | None = None) -> XDeletion:
    """X told us `x_id` was deleted: remember it and redact it everywhere (once)."""
    deleted_at = deleted_at or timezone.now()
    with transaction.atomic():
        deletion, created = XDeletion.objects.get_or_create(
            x_id=x_id, is_dm=dm, defaults={"source": source, "deleted_at": deleted_at}
        )
        redacted = redact_deleted(x_id, dm=dm, deleted_at=deletion.deleted_at)
        if redacted:
            XDeletion.objects.filter(pk=deletion.pk).update(items_redacted=F("items_redacted") + redacted)
    return deletion


def redact_deleted(x_id: str, *, dm: bool = False, deleted_at: datetime | None = None) -> int:
    """Redact the post (or DM event) `x_id` everywhere; returns how many items held it.
    Safe to call again (a deletion seen by push and by the batch job)."""
    deleted_at = deleted_at or timezone.now()
    marker = tombstone("X", deleted_at)
    with transaction.atomic():
        items = list(
            IncomingItem.objects.select_for_update()
            .filter(x_id=x_id, kind__in=DM_KINDS if dm else POST_KINDS, redacted_at__isnull=True)
        )
        texts = [t for item in items for t in (item.text, body_for(item), subject_for(item)) if item.text]
        for item in items:
            redact_item(item, deleted_at)
        source = Comment.Source.DM if dm else Comment.Source.TWEET
        # The comment the post made, and the one an edit of it updated (X deletes a post
        # with all its versions).
        comments = Comment.objects.filter(
            Q(external_source=source, external_id=x_id) | Q(pk__in=[i.comment_id for i in items if i.comment_id]),
            redacted_at__isnull=True,
        )
        for comment in comments:
            redact_comment(comment, marker=marker, texts=texts, deleted_at=deleted_at)
        _redact_events(x_id, deleted_at)
    return len(items)


def _redact_events(x_id: str, deleted_at: datetime) -> None:
    """Raw pushed events that carried the post: kept (they are the exactly-once keys) with
    the payload replaced."""
    for event in ActivityEvent.objects.filter(body__contains=x_id).exclude(event_type="post.delete"):
        try:
            payload = json.loads(event.body).get("data", {}).get("payload", {})
        except (ValueError, AttributeError):
            payload = {}
        if isinstance(payload, dict) and str(payload.get("id")) != x_id and str(payload.get("liked_tweet_id")) != x_id:
            continue  # names the id in passing (a reply to it): not its content
        event.body = json.dumps({"event_uuid": event.event_id, "event_type": event.event_type,
                                 "redacted": f"post {x_id} deleted on X on {deleted_at.isoformat()}"})
        event.save(update_fields=["body"])
