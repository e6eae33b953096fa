"""What happened to a ticket, told to whoever listens (business rules, real-time UI).

Sent once per change set, after the change is saved: `changes` maps a field name to its
(old, new) values; `comment` is the comment added in the same update, if any.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=Ticket; kwargs: ticket, created, changes, comment, actor
ticket_changed = Signal()

# sender=Comment; kwargs: comment_id, ticket_id, delivery. Sent after commit whenever an
# outgoing comment's delivery state changes (pending, sent, failed), by whichever channel.
delivery_changed = Signal()


def announce_delivery(comment_id: int, ticket_id: int, delivery: str) -> None:
    """Tell listeners, once the current transaction commits, that a comment's delivery moved."""
    from django.db import transaction

    from .models import Comment

    transaction.on_commit(
        lambda: delivery_changed.send(sender=Comment, comment_id=comment_id, ticket_id=ticket_id, delivery=delivery)
    )
