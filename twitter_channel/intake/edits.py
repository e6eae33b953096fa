"""Edited posts: X gives each version of an edited post its own id and lists them all,
oldest first, in `edit_history_tweet_ids` (`edit_history_post_ids` in the post vocabulary).
A version whose history names a post we already hold as a comment is that comment's latest
text: the comment shows it and keeps what it said before (`tickets.redaction.apply_edit`),
rather than the edit opening a ticket or adding a second comment."""

from __future__ import annotations

from tickets.models import Comment
from tickets.redaction import apply_edit
from twitter_channel.models import IncomingItem


def apply_post_edit(item: IncomingItem, body: str) -> bool:
    """If `item` is a newer version of a post we hold as a comment, show it there (keeping the
    earlier text) and link the item to that comment; True when it did."""
    history = _edit_history(item.raw)
    earlier = [i for i in history if i != item.x_id]
    if not earlier:
        return False
    comment = (
        Comment.objects.filter(external_source=Comment.Source.TWEET, external_id__in=earlier, redacted_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if comment is None:
        return False
    previous = (
        IncomingItem.objects.filter(comment=comment).exclude(pk=item.pk).order_by("-x_created_at", "-pk").first()
    )
    apply_edit(comment, new_body=body, old_external_id=previous.x_id if previous else comment.external_id,
               edited_at=item.x_created_at)
    item.state = IncomingItem.State.TICKETED
    item.state_reason = f"Edit of post {comment.external_id}"
    item.ticket_id = comment.ticket_id
    item.comment = comment
    return True


def has_earlier_versions(item: IncomingItem) -> bool:
    """Whether X lists earlier versions of this post: it may be an edit of one we hold."""
    return any(i != item.x_id for i in _edit_history(item.raw))


def _edit_history(raw: object) -> list[str]:
    if not isinstance(raw, dict):
        return []
    ids = raw.get("edit_history_tweet_ids") or raw.get("edit_history_post_ids") or []
    return [str(i) for i in ids if isinstance(i, str | int)] if isinstance(ids, list) else []
