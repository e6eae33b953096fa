"""What happened to a ticket, told to whoever listens (business rules, real-time UI).

Sent once per change set, after the change is saved: `changes` maps a field name to its
(old, new) values; `comment` is the comment added in the same update, if any.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=Ticket; kwargs: ticket, created, changes, comment, actor
ticket_changed = Signal()
