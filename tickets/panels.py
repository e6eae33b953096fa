"""Extra panels on the ticket page, contributed by channel apps.

`tickets` knows nothing of X; the X app shows its own things on the ticket page (the tweet
link, the brand account, reply-as-DM options) by registering templates here from its
AppConfig.ready, in the same way it registers its outbound sender:

    register_ticket_panel("twitter_channel/_ticket_panel.html", channels=X_CHANNELS)
    register_ticket_panel("twitter_channel/_reply_options.html", channels=X_CHANNELS, place=REPLY)

A SIDEBAR panel renders in the ticket's side column; a REPLY panel renders inside the reply
form, and its inputs named `reply_option_<name>` reach the channel's sender as keyword
argument `<name>` (strings from the browser: the sender validates them).
Panels get the page context (`ticket`, `user`, `request`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import Ticket

SIDEBAR = "sidebar"
REPLY = "reply"


@dataclass(frozen=True)
class TicketPanel:
    template: str
    channels: frozenset[str] | None  # None: every channel
    place: str


_panels: list[TicketPanel] = []


def register_ticket_panel(template: str, *, channels: Iterable[str] | None = None, place: str = SIDEBAR) -> None:
    panel = TicketPanel(template, frozenset(channels) if channels is not None else None, place)
    if panel not in _panels:  # ready() may run twice in tests
        _panels.append(panel)


def panels_for(ticket: Ticket, place: str) -> list[str]:
    return [
        p.template for p in _panels if p.place == place and (p.channels is None or ticket.channel in p.channels)
    ]


# How a channel answers, offered in the reply box's one "how to answer" choice beside
# "Email" and "Internal note": the X app offers a public reply and a DM, each naming its
# recipient. A provider takes the ticket and returns ([(mode, label), ...], default mode);
# the chosen mode reaches the sender as `mode`.
ReplyModes = Callable[[Ticket], tuple[list[tuple[str, str]], str]]
_reply_modes: list[tuple[frozenset[str] | None, ReplyModes]] = []


def register_reply_modes(provider: ReplyModes, *, channels: Iterable[str] | None = None) -> None:
    entry = (frozenset(channels) if channels is not None else None, provider)
    if entry not in _reply_modes:  # ready() may run twice in tests
        _reply_modes.append(entry)


def reply_modes_for(ticket: Ticket) -> tuple[list[tuple[str, str]], str]:
    for channels, provider in _reply_modes:
        if channels is None or ticket.channel in channels:
            return provider(ticket)
    return [], ""


REPLY_OPTION_PREFIX = "reply_option_"


def reply_options(post) -> dict[str, str]:
    return {k.removeprefix(REPLY_OPTION_PREFIX): v for k, v in post.items() if k.startswith(REPLY_OPTION_PREFIX)}
