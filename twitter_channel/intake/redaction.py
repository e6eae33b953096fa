"""Redacting one stored item: what the author wrote goes, the ids, author and dates stay."""

from __future__ import annotations

from datetime import datetime

from twitter_channel.models import IncomingItem, XDeletion

Kind = IncomingItem.Kind
POST_KINDS = (Kind.MENTION, Kind.LIKE, Kind.OWN_TWEET)
DM_KINDS = (Kind.DM, Kind.OWN_DM)
# Parsed fields that hold what the author wrote.
CONTENT_FIELDS = {"text": "", "urls": [], "mentioned_usernames": [], "is_quote": False, "media": []}


def deletions_among(items) -> dict[tuple[str, bool], datetime]:
    """The recorded deletions of a batch's items, in one query: (x_id, is_dm) -> deleted_at."""
    found = XDeletion.objects.filter(x_id__in={item.x_id for item in items})
    return {(d.x_id, d.is_dm): d.deleted_at for d in found}


def redact_if_deleted(item: IncomingItem, known: dict[tuple[str, bool], datetime] | None = None) -> bool:
    """Conversion asks this first: an item whose deletion X already told us about (the
    deletion event overtook the post's own) is redacted instead of converted. `known`: the
    batch's deletions (`deletions_among`), sparing a query per item."""
    key = (item.x_id, item.kind in DM_KINDS)
    if known is None:
        known = deletions_among([item])
    if key not in known:
        return False
    redact_item(item, known[key])
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


