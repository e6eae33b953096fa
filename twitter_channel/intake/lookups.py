"""What converting stored X items looks up: the comments already holding their posts and
DMs, the tickets of their threads and DM conversations, what may still be ahead of them."""

from __future__ import annotations

from django.db.models import Min, Q

from tickets.models import Comment, Ticket
from twitter_channel.models import IncomingItem

Kind = IncomingItem.Kind
State = IncomingItem.State


def thread_ticket(item: IncomingItem) -> Ticket | None:
    """The ticket a reply belongs to: the one holding the post it answers, else (the parent
    deleted or never seen) the one holding the thread's root post."""
    for tweet_id in thread_ids(item):
        comment = (
            Comment.objects.select_related("ticket")
            .filter(external_source=Comment.Source.TWEET, external_id=tweet_id,
                    ticket__requester__erased_at=None)
            .first()
        )
        if comment is not None:
            return comment.ticket
    return None


def tickets_of_threads(items) -> dict[str, int]:
    """What `thread_ticket` looks up, for many replies in one query: the id of the ticket
    holding each post of their threads that is on one, by post id."""
    wanted = {tweet_id for item in items for tweet_id in thread_ids(item)}
    if not wanted:
        return {}
    return dict(
        Comment.objects.filter(external_source=Comment.Source.TWEET, external_id__in=wanted,
                               ticket__requester__erased_at=None)
        .values_list("external_id", "ticket_id")
    )


def thread_ids(item: IncomingItem) -> list[str]:
    """The posts whose ticket a reply joins, in order of preference: the post it answers, then
    its thread's root."""
    return [tweet_id for tweet_id in (item.in_reply_to_id, item.conversation_key) if tweet_id and tweet_id != item.x_id]


def dm_conversation_ticket(item: IncomingItem) -> Ticket | None:
    """The latest ticket of this DM conversation (add_comment carries a closed one on
    to a follow-up): the ticket holding its latest message, so a conversation whose ticket
    was merged into another continues there (a merge moves comments, not items)."""
    linked = (
        IncomingItem.objects.filter(
            account_id=item.account_id,
            conversation_key=item.conversation_key,
            kind__in=(Kind.DM, Kind.OWN_DM),
            ticket__isnull=False,
            # Erasure blanks the conversation on the items it knows of; should any other
            # still carry it, it must not lead back to an erased requester's ticket either.
            ticket__requester__erased_at=None,
        )
        .exclude(pk=item.pk)
        .select_related("ticket", "comment__ticket")
        .order_by("-pk")
        .first()
    )
    if linked is None:
        return None
    return linked.comment.ticket if linked.comment is not None else linked.ticket


def stored_comments(items) -> dict[tuple[str, str], Comment | None]:
    """The comments already holding the items' post and DM ids, in one query, keyed by
    (source, id); None for an id looked up and not found. Spares each item its own lookup."""
    ids = {item.x_id for item in items}
    found: dict[tuple[str, str], Comment | None] = {
        (source, x_id): None for x_id in ids for source in (Comment.Source.TWEET, Comment.Source.DM)
    }
    for comment in Comment.objects.filter(
        external_source__in=(Comment.Source.TWEET, Comment.Source.DM), external_id__in=ids
    ):
        found[comment.external_source, comment.external_id] = comment
    return found


def stored_comments_now(item: IncomingItem) -> dict[tuple[str, str], Comment | None]:
    """The item's comments looked up again, now: a parallel converter may have stored one
    since the batch looked (deliberately not `stored_comments`, which read the batch)."""
    found: dict[tuple[str, str], Comment | None] = {(s, item.x_id): None for s in (Comment.Source.TWEET,
                                                                                   Comment.Source.DM)}
    for comment in Comment.objects.filter(external_source__in=(Comment.Source.TWEET, Comment.Source.DM),
                                          external_id=item.x_id):
        found[comment.external_source, comment.external_id] = comment
    return found


def dm_conversations_taken(batch: list[IncomingItem]) -> dict:
    """For the batch's DMs, in one query: the conversations that already have a ticket
    (`"ticketed"` -> keys) and the oldest item of each conversation still new outside the
    batch (`"pending"` -> key -> pk: another converter holds it, and a DM must not overtake it)."""
    keys = {(i.account_id, i.conversation_key) for i in batch if i.kind == Kind.DM and i.conversation_key}
    taken: dict = {"ticketed": set(), "pending": {}}
    if not keys:
        return taken
    rows = (
        IncomingItem.objects.filter(account_id__in={a for a, _ in keys}, conversation_key__in={k for _, k in keys})
        .exclude(pk__in=[i.pk for i in batch])
        .filter(Q(kind__in=(Kind.DM, Kind.OWN_DM), ticket__isnull=False) | Q(state=State.NEW))
        .values("account_id", "conversation_key", "state")
        .annotate(first=Min("pk"))
    )
    for row in rows:
        key = (row["account_id"], row["conversation_key"])
        if row["state"] == State.NEW:
            taken["pending"][key] = min(row["first"], taken["pending"].get(key, row["first"]))
        else:
            taken["ticketed"].add(key)
    return taken


def older_item_pending(item: IncomingItem) -> bool:
    if not _may_overtake(item):
        return False
    return (
        IncomingItem.objects.filter(
            account_id=item.account_id, conversation_key=item.conversation_key, state=State.NEW, pk__lt=item.pk
        )
        .exists()
    )


def older_items_pending(items: list[IncomingItem]) -> set[int]:
    """`older_item_pending` for items converted together in pk order, in one query: the pks of
    those with an older item of their conversation still new outside `items` (the older ones
    among `items` are converted first)."""
    joining = [item for item in items if _may_overtake(item)]
    if not joining:
        return set()
    rows = (
        IncomingItem.objects.filter(account_id__in={i.account_id for i in joining},
                                    conversation_key__in={i.conversation_key for i in joining}, state=State.NEW)
        .exclude(pk__in=[i.pk for i in items])
        .values("account_id", "conversation_key")
        .annotate(first=Min("pk"))
    )
    oldest = {(row["account_id"], row["conversation_key"]): row["first"] for row in rows}
    # An item that waits stays new, so its conversation's later items wait as well: the same
    # older item is ahead of them.
    return {item.pk for item in joining if oldest.get((item.account_id, item.conversation_key), item.pk) < item.pk}


def _may_overtake(item: IncomingItem) -> bool:
    # Only something that joins an existing thread or conversation can overtake its parent.
    return bool(item.conversation_key) and not (item.conversation_key == item.x_id and not item.in_reply_to_id)
