"""What an agent's reply box does with the text."""

from __future__ import annotations

from .comments import add_comment
from .models import Channel, Comment, Ticket, User
from .outbound import NoSenderForChannel, reply_to_requester


def post_reply(ticket: Ticket, *, body: str, author: User, public: bool, options: dict | None = None) -> Comment:
    """An internal note, or a public reply sent to the requester on the ticket's channel.

    A public reply goes through the channel's registered sender (X: a tweet or DM) so it is
    delivered; a channel with no sender yet (web, or X before the X app registers one) keeps
    the reply as a web comment the requester sees in the ticket. Both paths use add_comment
    in the end, so the comment cap raises `TicketFull` either way. A sender refuses a reply it
    cannot deliver (too long for a post, no account to send from) by raising Django's
    `ValidationError`, which the reply box shows to the agent.
    """
    if not public:
        return add_comment(ticket, body=body, author_user=author, is_public=False, channel=Channel.WEB)
    try:
        return reply_to_requester(ticket, body, author=author, **(options or {}))
    except NoSenderForChannel:
        # Not sent on X, so do not label it as X: it lives on the web ticket only.
        channel = Channel.WEB if ticket.is_x else ticket.channel
        return add_comment(ticket, body=body, author_user=author, is_public=True, channel=channel)
