"""Replies to the requester on the ticket's own channel.

`tickets` does not know how to tweet or email; channel apps register a sender for their
channels at start-up (in their AppConfig.ready), and agents' reply forms and business
rules' "reply to requester" action both call `reply_to_requester`, so every outgoing
message takes the same path: a comment recorded as pending first, then delivered by a
Celery task that never double-sends.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Comment, Ticket, User

# channel value -> callable(ticket, body, author, **options) -> Comment
Sender = Callable[..., Comment]
_senders: dict[str, Sender] = {}


class NoSenderForChannel(Exception):
    pass


def register_sender(channel: str, sender: Sender) -> None:
    _senders[channel] = sender


def reply_to_requester(ticket: Ticket, body: str, *, author: User | None = None, **options) -> Comment:
    try:
        sender = _senders[ticket.channel]
    except KeyError:
        raise NoSenderForChannel(f"No way to reply on channel {ticket.get_channel_display()}") from None
    return sender(ticket, body, author, **options)
