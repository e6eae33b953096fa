"""What an agent's reply box does with the text."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from .comments import add_comment
from .mail.outbound import NoEmailAddress, send_email_reply
from .models import Channel, Comment, Ticket, User
from .outbound import NoSenderForChannel, reply_to_requester

logger = logging.getLogger(__name__)


def replies_since(ticket: Ticket, seen_comment_id: str | int | None, author: User) -> list[Comment]:
    """Other agents' comments (replies or notes) added after the newest one the author's page
    showed (`seen_comment_id`, posted back with the reply form). Non-empty means two agents are
    answering at once: the reply box asks before sending. Without an id (an old form), no check."""
    try:
        seen = int(seen_comment_id)
    except (TypeError, ValueError):
        return []
    return list(
        ticket.comments.filter(pk__gt=seen, author_user__isnull=False)
        .exclude(author_user=author)
        .select_related("author_user")
        .order_by("pk")
    )


def post_reply(
    ticket: Ticket,
    *,
    body: str,
    author: User,
    public: bool,
    options: dict | None = None,
    by_email: bool = False,
) -> Comment:
    """An internal note, or a public reply sent to the requester on the ticket's channel.

    A public reply goes through the channel's registered sender (X: a tweet or DM) so it is
    delivered; a channel with no sender yet (web, or X before the X app registers one) keeps
    the reply as a web comment the requester sees in the ticket. Both paths use add_comment
    in the end, so the comment cap raises `TicketFull` either way. A sender refuses a reply it
    cannot deliver (too long for a post, no account to send from) by raising Django's
    `ValidationError`, which the reply box shows to the agent.

    `by_email` moves the conversation to email whatever the ticket's channel (an X requester
    who gave their address): the reply goes to the requester's address, and their answer
    threads back to this ticket through the reply-to address.
    """
    if not public:
        return add_comment(ticket, body=body, author_user=author, is_public=False, channel=Channel.WEB)
    try:
        if by_email:
            return send_email_reply(ticket, body, author=author)
        return reply_to_requester(ticket, body, author=author, **(options or {}))
    except NoEmailAddress as exc:
        # No confirmed address to write to (on an email ticket too: its requester's address
        # may never have been confirmed, or was removed since the reply box was shown).
        raise ValidationError(str(exc)) from exc
    except NoSenderForChannel:
        # Not sent on X, so do not label it as X: it lives on the web ticket only.
        channel = Channel.WEB if ticket.is_x else ticket.channel
        return add_comment(ticket, body=body, author_user=author, is_public=True, channel=channel)


# --- What other apps do once a reply is posted ---------------------------------------------
# An app that adds inputs to the reply box (a REPLY panel, tickets/panels.py) acts on them
# once the reply is posted: a macro's actions are applied with the reply it filled in.


@dataclass(frozen=True)
class ReplyNotice:
    level: str  # "success", "warning" (the messages framework's levels)
    text: str


# callable(ticket, comment, author, posted form data) -> notices for the agent
AfterReply = Callable[[Ticket, Comment, User, Mapping[str, str]], Iterable[ReplyNotice]]
_after_reply: list[AfterReply] = []


def register_after_reply(hook: AfterReply) -> None:
    if hook not in _after_reply:  # ready() may run twice in tests
        _after_reply.append(hook)


def after_reply(ticket: Ticket, comment: Comment, author: User, data: Mapping[str, str]) -> list[ReplyNotice]:
    notices: list[ReplyNotice] = []
    for hook in _after_reply:
        try:
            notices.extend(hook(ticket, comment, author, data))
        except Exception:
            # The reply is recorded (and maybe queued for sending) already: a failing
            # extension must not turn it into an error page that invites sending it again.
            logger.exception("After-reply hook %r failed on ticket #%s", hook, ticket.pk)
            notices.append(ReplyNotice("warning", "Your reply was added, but something that should have "
                                                  "followed it failed (see the server log)."))
    return notices
