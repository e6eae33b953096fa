"""Answering the requester on X: what the composer offers, what it refuses, and queueing.

A reply is recorded as the agent's comment (delivery queued) together with an
`OutgoingMessage` in one transaction, and a Celery task sends it after commit (`sending`).
Everything is checked here, before anything is recorded: the text's weighted length with
the ticket link, the account, the kind of reply, the post to answer.

X restricts API replies (April 2026): it accepts one only if the author of the post being
answered @mentioned the replying account or quoted one of its posts. The composer warns
when that is not so and offers a DM or an email request instead; it does not refuse, since
the restriction may change and X's own answer is the last word (a failed delivery says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from tickets.comments import add_comment
from tickets.models import Channel, Comment, Identity, Ticket, User
from tickets.public import request_email_link, ticket_link

from . import sending
from .models import IncomingItem, XAccount
from .reply_models import OutgoingMessage
from .text_length import DM_LIMIT, TWEET_LIMIT, appended, dm_length, link_weight, weighted_length

TWEET = OutgoingMessage.Kind.TWEET
DM = OutgoingMessage.Kind.DM
REQUEST_EMAIL_TEXT = "To help you further we need your email address. Please leave it here:"


class XReplyRefused(ValidationError):
    """The reply cannot be sent as asked; nothing was recorded. The message says why."""


@dataclass
class ReplyChoices:
    """What the composer offers on one ticket."""

    ticket: Ticket
    modes: list[tuple[str, str]]
    default_mode: str
    accounts: list[XAccount]  # for public replies
    default_account: XAccount | None
    dm_account: XAccount | None
    answered: IncomingItem | None  # the requester's latest post, which a public reply answers
    answered_comment: Comment | None
    recipient_x_id: str
    dm_conversation_id: str
    summoned_account_ids: set[int] = field(default_factory=set)
    append_link_default: bool = False
    link: str = ""

    @property
    def link_weight(self) -> int:
        return link_weight(self.link)

    def warning_for(self, account: XAccount | None) -> str:
        """Why X may refuse a public reply from `account`, or ""."""
        if account is None or self.answered_comment is None:
            return ""
        if account.pk in self.summoned_account_ids:
            return ""
        return (
            f"The requester's latest post did not @mention or quote @{account.username}: X may refuse a public "
            "reply to it. Consider a direct message or asking for their email instead."
        )


def reply_choices(ticket: Ticket) -> ReplyChoices:
    answered_comment = (
        Comment.objects.filter(ticket=ticket, external_source=Comment.Source.TWEET, author_requester__isnull=False)
        .order_by("-created_at", "-id")
        .first()
    )
    answered = None
    if answered_comment is not None:
        answered = (
            IncomingItem.objects.filter(x_id=answered_comment.external_id,
                                        kind__in=(IncomingItem.Kind.MENTION, IncomingItem.Kind.LIKE))
            .defer("raw").order_by("-id").first()
        )
    latest_dm = (
        IncomingItem.objects.filter(ticket=ticket, kind=IncomingItem.Kind.DM).defer("raw").order_by("-id").first()
    )
    accounts = list(XAccount.objects.filter(allowed_for_replies=True, is_active=True).order_by("username"))
    default_account = next((a for a in accounts if a.pk == ticket.x_account_id), accounts[0] if accounts else None)
    dm_account = ticket.x_account if ticket.x_account and ticket.x_account.is_active else None
    recipient = (latest_dm.author_x_id if latest_dm else "") or (answered.author_x_id if answered else "")
    if not recipient:
        recipient = (
            Identity.objects.filter(requester_id=ticket.requester_id, kind=Identity.Kind.X)
            .order_by("-updated_at").values_list("value", flat=True).first() or ""
        )
    modes = []
    if answered_comment is not None and accounts:
        modes.append((TWEET, "Public reply"))
    if dm_account is not None and recipient:
        modes.append((DM, "Direct message"))
    default_mode = DM if ticket.channel == Channel.X_DM and (DM, "Direct message") in modes else (
        modes[0][0] if modes else "")
    account_for_link = default_account or dm_account
    return ReplyChoices(
        ticket=ticket,
        modes=modes,
        default_mode=default_mode,
        accounts=accounts,
        default_account=default_account,
        dm_account=dm_account,
        answered=answered,
        answered_comment=answered_comment,
        recipient_x_id=recipient,
        dm_conversation_id=latest_dm.conversation_key if latest_dm else "",
        summoned_account_ids=_summoned(answered, accounts),
        append_link_default=bool(account_for_link and account_for_link.append_ticket_link_default),
        link=ticket_link(ticket),
    )


def _summoned(answered: IncomingItem | None, accounts: list[XAccount]) -> set[int]:
    """Accounts the answered post @mentioned or quoted (X then accepts a reply from them)."""
    if answered is None:
        return set()
    mentioned = {name.lower() for name in answered.mentioned_usernames or ()}
    summoned = {a.pk for a in accounts if a.username.lower() in mentioned}
    if answered.is_quote:
        quoted = _quoted_id(answered)
        if quoted:
            own = set(
                OutgoingMessage.objects.filter(x_id=quoted, kind=TWEET).values_list("account_id", flat=True)
            ) | set(
                IncomingItem.objects.filter(x_id=quoted, kind=IncomingItem.Kind.OWN_TWEET)
                .values_list("account_id", flat=True)
            )
            summoned |= own
    return summoned


def _quoted_id(item: IncomingItem) -> str:
    raw = IncomingItem.objects.filter(pk=item.pk).values_list("raw", flat=True).first() or {}
    refs = raw.get("referenced_tweets") or raw.get("referenced_posts") or [] if isinstance(raw, dict) else []
    return next((str(r.get("id")) for r in refs if isinstance(r, dict) and r.get("type") == "quoted"), "")


# --- composing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposedReply:
    kind: str
    account: XAccount
    text: str
    in_reply_to_tweet_id: str = ""
    recipient_x_id: str = ""
    dm_conversation_id: str = ""


def compose(choices: ReplyChoices, body: str, *, mode: str | None = None, account_id: int | str | None = None,
            append_link: bool | None = None) -> ComposedReply:
    """The exact post to send, or XReplyRefused saying what is wrong."""
    body = (body or "").strip()
    if not body:
        raise XReplyRefused("Write a message first.")
    if not choices.modes:
        raise XReplyRefused("This ticket has nothing on X to answer: no post of the requester and no DM "
                            "conversation with a connected account.")
    mode = mode or choices.default_mode
    if mode not in dict(choices.modes):
        raise XReplyRefused(f"A {dict(OutgoingMessage.Kind.choices).get(mode, mode)!s} is not possible on this "
                            "ticket.")
    if append_link is None:
        append_link = choices.append_link_default
    text = appended(body, choices.link) if append_link else body
    if mode == DM:
        if dm_length(text) > DM_LIMIT:
            raise XReplyRefused(f"A direct message takes at most {DM_LIMIT:,} characters; this one has "
                                f"{dm_length(text):,}.")
        return ComposedReply(DM, choices.dm_account, text, recipient_x_id=choices.recipient_x_id,
                             dm_conversation_id=choices.dm_conversation_id)
    account = choices.default_account
    if account_id not in (None, ""):
        account = next((a for a in choices.accounts if str(a.pk) == str(account_id)), None)
        if account is None:
            raise XReplyRefused("That X account cannot be used for replies.")
    length = weighted_length(text)
    if length > TWEET_LIMIT:
        extra = " with the ticket link" if append_link else ""
        raise XReplyRefused(f"Too long for X: {length} of {TWEET_LIMIT} characters{extra} "
                            f"(links count 23, CJK characters and emoji 2). Shorten it by {length - TWEET_LIMIT}.")
    answered = choices.answered_comment
    recipient = choices.answered.author_x_id if choices.answered else choices.recipient_x_id
    return ComposedReply(TWEET, account, text, in_reply_to_tweet_id=answered.external_id, recipient_x_id=recipient)


def queue_reply(ticket: Ticket, composed: ComposedReply, author: User | None) -> Comment:
    """Record the reply as the agent's comment (queued) with its outbox row, and send it after commit."""
    with transaction.atomic():
        comment = add_comment(
            ticket,
            body=composed.text,
            author_user=author,
            is_public=True,
            channel=Channel.X if composed.kind == TWEET else Channel.X_DM,
            delivery=Comment.Delivery.QUEUED,
        )
        outgoing = OutgoingMessage.objects.create(
            comment=comment,
            account=composed.account,
            kind=composed.kind,
            text=composed.text,
            in_reply_to_tweet_id=composed.in_reply_to_tweet_id,
            recipient_x_id=composed.recipient_x_id,
            dm_conversation_id=composed.dm_conversation_id,
        )
        sending.enqueue(outgoing.pk)
    return comment


def reply_on_x(ticket: Ticket, body: str, author: User | None = None, *, mode: str | None = None,
               account: str | int | None = None, append_link: str | bool | None = None, **_ignored) -> Comment:
    """The X channels' sender (`tickets.outbound`): the ticket page's reply box (options
    arrive as strings from its X panel) and business rules' "reply to requester" (no
    options: the ticket's defaults)."""
    choices = reply_choices(ticket)
    composed = compose(choices, body, mode=mode or None, account_id=account, append_link=_flag(append_link))
    return queue_reply(ticket, composed, author)


def request_email(ticket: Ticket, author: User | None, *, mode: str | None = None) -> Comment:
    """Ask the requester for an email address, with the link to the form that takes it."""
    choices = reply_choices(ticket)
    body = f"{REQUEST_EMAIL_TEXT} {request_email_link(ticket)}"
    return queue_reply(ticket, compose(choices, body, mode=mode, append_link=False), author)


def _flag(value: str | bool | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return value.strip().lower() in ("1", "on", "true", "yes")
