"""Redacting one stored item: what the author wrote goes, the ids, author and dates stay."""

from __future__ import annotations

from datetime import datetime

from ..models import IncomingItem
from .models import XDeletion

Kind = IncomingItem.Kind
POST_KINDS = (Kind.MENTION, Kind.LIKE, Kind.OWN_TWEET)
DM_KINDS = (Kind.DM, Kind.OWN_DM)
# Parsed fields that hold what the author wrote.
CONTENT_FIELDS = {"text": "", "urls": [], "mentioned_usernames": [], "is_quote": False}


def redact_if_deleted(item: IncomingItem) -> bool:
    """Conversion asks this first: an item whose deletion X already told us about (the
    deletion event overtook the post's own) is redacted instead of converted."""
    deletion = XDeletion.objects.filter(x_id=item.x_id, is_dm=item.kind in DM_KINDS).first()
    if deletion is None:
        return False
    redact_item(item, deletion.deleted_at)
    return True


def redact_item(item: IncomingItem, deleted_at: datetime) -> None:
    for name, empty in CONTENT_FIELDS.items():
        setattr(item, name, empty)
    item.raw = {"id": item.x_id, "redacted": f"deleted on X on {deleted_at.isoformat()}"}
    item.redacted_at = deleted_at
    if item.state in (IncomingItem.State.NEW, IncomingItem.State.QUARANTINED):
        # Never turned into a ticket (nor retried out of quarantine) after its author deleted it.
        item.state = IncomingItem.State.IGNORED
        item.state_reason = "Deleted on X before it reached a ticket"
    if item.pk:
        item.save()


