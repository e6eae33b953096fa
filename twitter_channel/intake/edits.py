"""Edited posts: X gives each version of an edited post its own id and lists them all,
oldest first, in `edit_history_tweet_ids` (`edit_history_post_ids` in the post vocabulary),
which the adapter parses into the item's `edit_history_ids`.
A version whose history names a post we already hold as a comment is that comment's latest
text: the comment shows it and keeps what it said before (`tickets.redaction.apply_edit`),
rather than the edit opening a ticket or adding a second comment."""

from __future__ import annotations

from tickets.models import Comment
from tickets.redaction import apply_edit
from twitter_channel.models import IncomingItem


def comments_edited_by(items) -> dict[str, Comment]:
    """For the items that are newer versions of a post we hold as a comment, that comment
    (x id -> comment), in one query."""
    earlier = {item.x_id: [i for i in item.edit_history_ids or () if i != item.x_id] for item in items}
    earlier = {x_id: ids for x_id, ids in earlier.items() if ids}
    if not earlier:
        return {}
    held: dict[str, Comment] = {}
    for comment in Comment.objects.filter(
        external_source=Comment.Source.TWEET, external_id__in={i for ids in earlier.values() for i in ids},
        redacted_at__isnull=True,
    ):
        held[comment.external_id] = comment
    found = {}
    for x_id, ids in earlier.items():
        comments = [held[i] for i in ids if i in held]
        if comments:
            found[x_id] = min(comments, key=lambda c: c.pk)
    return found


def show_post_edit(item: IncomingItem, comment: Comment, body: str) -> None:
    """`item` is a newer version of the post `comment` holds: the comment shows it (keeping
    the earlier text) and the item is linked to the comment."""
    previous = (
        IncomingItem.objects.filter(comment=comment).exclude(pk=item.pk).order_by("-x_created_at", "-pk").first()
    )
    apply_edit(comment, new_body=body, old_external_id=previous.x_id if previous else comment.external_id,
               edited_at=item.x_created_at)
    item.state = IncomingItem.State.TICKETED
    item.state_reason = f"Edit of post {comment.external_id}"
    item.ticket_id = comment.ticket_id
    item.comment = comment


def has_earlier_versions(item: IncomingItem) -> bool:
    """Whether X lists earlier versions of this post: it may be an edit of one we hold."""
    return any(i != item.x_id for i in item.edit_history_ids or ())
