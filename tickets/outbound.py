"""Replies to the requester on the ticket's own channel.

`tickets` does not know how to tweet or email; channel apps register a sender for their
channels at start-up (in their AppConfig.ready), and agents' reply forms and business
rules' "reply to requester" action both call `reply_to_requester`, so every outgoing
message takes the same path: a comment recorded as pending first, then delivered by a
Celery task that never double-sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


# --- How long a reply may be ---------------------------------------------------------------
# A channel with a length limit (X) registers how it measures a text, so that whoever
# prepares a reply outside the channel's own composer (a macro's text after its
# placeholders) can tell the agent before sending; the sender still checks when it sends.


@dataclass(frozen=True)
class TextFit:
    length: int  # as the channel counts it
    limit: int
    what: str  # what was measured, for the agent: "X post (with the ticket link)", ...

    @property
    def over(self) -> int:
        return max(0, self.length - self.limit)


# channel value -> callable(ticket, body, **options) -> TextFit
Measure = Callable[..., TextFit]
_measures: dict[str, Measure] = {}


def register_measure(channel: str, measure: Measure) -> None:
    _measures[channel] = measure


def measure_reply(ticket: Ticket, body: str, **options) -> TextFit | None:
    """How the ticket's channel counts `body` (None: the channel has no limit). `options` as
    the reply box posts them to the sender (mode, append_link...)."""
    measure = _measures.get(ticket.channel)
    return measure(ticket, body, **options) if measure is not None else None
