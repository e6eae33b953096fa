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
from django.db.models import Max

from tickets.comments import add_comment
from tickets.lifecycle import EditConflict, update_ticket
from tickets.links import request_email_link, ticket_link
from tickets.mail.capture import new_email_request
from tickets.models import Channel, Comment, Identity, Ticket, User
from tickets.outbound import TextFit
from twitter_channel.answering import sending
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.x.text_length import DM_LIMIT, TWEET_LIMIT, appended, dm_length, link_weight, weighted_length

TWEET = OutgoingMessage.Kind.TWEET
DM = OutgoingMessage.Kind.DM
REQUEST_EMAIL_TEXT = "To help you further we need your email address. Please leave it here:"


class XReplyRefused(ValidationError):
    """The reply cannot be sent as asked; nothing was recorded. The message says why."""


@dataclass(frozen=True)
class Recipient:
    """Someone a reply can go to: the ticket's requester, or another participant of its
    thread whom an agent picked explicitly. `post` is their latest post on the ticket (a
    public reply answers it); a DM goes to `x_id`."""

    x_id: str
    handle: str
    is_requester: bool
    post: Comment | None = None
    post_item: IncomingItem | None = None

    @property
    def name(self) -> str:
        return f"@{self.handle}" if self.handle else f"X user {self.x_id}"

    @property
    def tweet_label(self) -> str:
        if self.post is None:
            return f"Public reply on X to {self.name} (nothing of theirs to answer on this ticket)"
        excerpt = self.post.body if len(self.post.body) <= 80 else self.post.body[:79] + "…"
        return f"Public reply on X to {self.name}, under their post “{excerpt}”"

    @property
    def dm_label(self) -> str:
        return f"Direct message on X to {self.name}"


@dataclass
class ReplyChoices:
    """What the composer offers on one ticket. Replies go to the requester unless an agent
    picks one of the `participants` (others who posted in the thread) explicitly."""

    ticket: Ticket
    modes: list[tuple[str, str]]
    default_mode: str
    accounts: list[XAccount]  # for public replies
    default_account: XAccount | None
    dm_account: XAccount | None
    answered: IncomingItem | None  # the requester's latest post, which a public reply answers
    answered_comment: Comment | None
    recipient_x_id: str  # the requester's X user id
    dm_conversation_id: str
    requester: Recipient | None = None
    participants: list[Recipient] = field(default_factory=list)
    summoned_account_ids: set[int] = field(default_factory=set)
    append_link_default: bool = False
    link: str = ""

    @property
    def link_weight(self) -> int:
        return link_weight(self.link)

    def recipient(self, to: str | None) -> Recipient:
        """The recipient an agent chose (`to`: an X user id), the requester by default; a
        person who is not on the ticket cannot be chosen."""
        if to in (None, "") or (self.requester is not None and to == self.requester.x_id):
            if self.requester is None:
                raise XReplyRefused("The requester has no X account to answer.")
            return self.requester
        found = next((p for p in self.participants if p.x_id == str(to)), None)
        if found is None:
            raise XReplyRefused("That X user is not a participant of this ticket.")
        return found

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
    # Everything here is the requester's: a stranger who replied in the thread joins the
    # ticket as a comment, and must never become whom the brand answers without an agent
    # choosing so (they would receive the DM, or the email link, meant for the customer).
    requester_x_ids = set(
        Identity.objects.filter(requester_id=ticket.requester_id, kind=Identity.Kind.X).values_list("value", flat=True)
    )
    answered_comment = (
        Comment.objects.filter(ticket=ticket, external_source=Comment.Source.TWEET,
                               author_requester_id=ticket.requester_id)
        .order_by("-created_at", "-id")
        .first()
    )
    answered = _item_of(answered_comment)
    if answered is not None and answered.author_x_id not in requester_x_ids:
        answered = None  # not the requester's own post (their identity changed hands)
        answered_comment = None
    latest_dm = (
        # Through the comments, which a merge moves: a DM ticket merged into this one
        # brings its conversation along (tickets.merging).
        IncomingItem.objects.filter(comment__ticket=ticket, kind=IncomingItem.Kind.DM, author_x_id__in=requester_x_ids)
        .select_related("account").defer("raw").order_by("-id").first()
    )
    accounts = list(XAccount.objects.filter(allowed_for_replies=True, is_active=True).order_by("username"))
    default_account = next((a for a in accounts if a.pk == ticket.x_account_id), accounts[0] if accounts else None)
    # DMs go out from the account the requester's DM conversation is with, which on a merged
    # ticket (a mention through one account, a DM to another) is not always the ticket's own.
    dm_home = latest_dm.account if latest_dm is not None else ticket.x_account
    dm_account = dm_home if dm_home and dm_home.is_active else None
    recipient = (latest_dm.author_x_id if latest_dm else "") or (answered.author_x_id if answered else "")
    if not recipient and requester_x_ids:
        recipient = (
            Identity.objects.filter(requester_id=ticket.requester_id, kind=Identity.Kind.X)
            .order_by("pk").values_list("value", flat=True).first()
        )
    requester = None
    if recipient:
        handle = (Identity.objects.filter(kind=Identity.Kind.X, value=recipient)
                  .values_list("handle", flat=True).first() or "")
        requester = Recipient(recipient, handle, True, answered_comment, answered)
    modes = []
    if answered_comment is not None and accounts:
        modes.append((TWEET, requester.tweet_label if requester else "Public reply on X"))
    if dm_account is not None and recipient:
        modes.append((DM, requester.dm_label))
    default_mode = DM if ticket.channel == Channel.X_DM and any(m == DM for m, _ in modes) else (
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
        requester=requester,
        participants=thread_participants(ticket, exclude_x_ids=requester_x_ids),
        summoned_account_ids=_summoned(answered, accounts),
        append_link_default=bool(account_for_link and account_for_link.append_ticket_link_default),
        link=ticket_link(ticket),
    )


def reply_choices_for_page(ticket: Ticket) -> ReplyChoices:
    """`reply_choices`, worked out once per ticket object: the ticket page asks for it from
    the reply box's choice of how to answer and again from the X panel beside it."""
    cached = ticket.__dict__.get("_x_reply_choices")
    if cached is None:
        cached = ticket.__dict__["_x_reply_choices"] = reply_choices(ticket)
    return cached


def reply_modes(ticket: Ticket) -> tuple[list[tuple[str, str]], str]:
    """The reply box's X ways of answering (tickets.panels.register_reply_modes)."""
    choices = reply_choices_for_page(ticket)
    return choices.modes, choices.default_mode


def _item_of(comment: Comment | None) -> IncomingItem | None:
    if comment is None:
        return None
    return (
        IncomingItem.objects.filter(x_id=comment.external_id, kind__in=(IncomingItem.Kind.MENTION, IncomingItem.Kind.LIKE))
        .defer("raw").order_by("-id").first()
    )


def thread_participants(ticket: Ticket, *, exclude_x_ids: set[str] = frozenset()) -> list[Recipient]:
    """Others who posted in the ticket's thread on X (not its requester), each with their
    latest post on the ticket, oldest participant first."""
    latest_ids = (
        Comment.objects.filter(ticket=ticket, external_source=Comment.Source.TWEET, author_requester__isnull=False)
        .exclude(author_requester_id=ticket.requester_id)
        .values("author_requester_id").annotate(latest=Max("id")).values_list("latest", flat=True)
    )
    comments = {c.external_id: c for c in Comment.objects.filter(pk__in=list(latest_ids)).order_by("id")}
    items = IncomingItem.objects.filter(x_id__in=comments, kind=IncomingItem.Kind.MENTION).defer("raw").order_by("id")
    found: dict[str, Recipient] = {}
    for item in items:
        if item.author_x_id and item.author_x_id not in exclude_x_ids and item.author_x_id not in found:
            found[item.author_x_id] = Recipient(item.author_x_id, item.author_handle, False,
                                                comments[item.x_id], item)
    return list(found.values())


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
            append_link: bool | None = None, to: str | None = None) -> ComposedReply:
    """The exact post to send, or XReplyRefused saying what is wrong. It goes to the
    requester unless `to` names a participant of the ticket's thread (an agent's choice)."""
    body = (body or "").strip()
    if not body:
        raise XReplyRefused("Write a message first.")
    if not choices.modes and not choices.participants:
        raise XReplyRefused("This ticket has nothing on X to answer: no post of the requester and no DM "
                            "conversation with a connected account.")
    recipient = choices.recipient(to)
    mode = mode or choices.default_mode
    possible = {TWEET: bool(recipient.post and choices.accounts), DM: choices.dm_account is not None}
    if not possible.get(mode):
        raise XReplyRefused(f"A {dict(OutgoingMessage.Kind.choices).get(mode, mode)!s} to {recipient.name} is not "
                            "possible on this ticket.")
    if append_link is None:
        append_link = choices.append_link_default
    text = appended(body, choices.link) if append_link else body
    if mode == DM:
        if dm_length(text) > DM_LIMIT:
            raise XReplyRefused(f"A direct message takes at most {DM_LIMIT:,} characters; this one has "
                                f"{dm_length(text):,}.")
        # The requester's own DM conversation when there is one; X finds (or opens) the
        # one-to-one conversation with anyone else from their user id.
        conversation = choices.dm_conversation_id if recipient.is_requester else ""
        _refuse_when_budget_stopped(choices.dm_account)
        return ComposedReply(DM, choices.dm_account, text, recipient_x_id=recipient.x_id,
                             dm_conversation_id=conversation)
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
    _refuse_when_budget_stopped(account)
    return ComposedReply(TWEET, account, text, in_reply_to_tweet_id=recipient.post.external_id,
                         recipient_x_id=recipient.x_id)


def _refuse_when_budget_stopped(account: XAccount) -> None:
    """Replies keep working when the X budget is spent, unless its admin chose a hard stop."""
    from twitter_channel.costs.meter import replies_stopped

    if replies_stopped(account.pk):
        raise XReplyRefused(f"The monthly X budget of {account} is spent and replies on X are stopped until "
                            "next month or until an admin raises the budget. Answer by email instead.")


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
        if composed.account.assign_on_reply and author is not None:
            take_if_unassigned(ticket, author)
        sending.enqueue(outgoing.pk)
    return comment


def take_if_unassigned(ticket: Ticket, agent: User) -> None:
    """The agent who answers an unassigned ticket takes it (an account's `assign_on_reply`).

    Done when the reply is queued, in the agent's own transaction, not when X confirms it:
    the other agents see at once that someone answered (a reply may wait minutes in the
    outbox, or fail and be retried), and a reply that fails stays with the agent who must
    retry it. Someone who assigned the ticket meanwhile keeps it."""
    if ticket.assignee_id is not None:
        return
    try:
        update_ticket(ticket, assignee_id=agent.pk, actor=agent, expected={"assignee_id": None})
    except EditConflict:
        pass  # assigned by someone else since the page was drawn: theirs stands


def reply_on_x(ticket: Ticket, body: str, author: User | None = None, *, mode: str | None = None,
               account: str | int | None = None, append_link: str | bool | None = None, to: str | None = None,
               **_ignored) -> Comment:
    """The X channels' sender (`tickets.outbound`): the ticket page's reply box (options
    arrive as strings from its X panel) and business rules' "reply to requester" (no
    options: the ticket's defaults)."""
    choices = reply_choices(ticket)
    composed = compose(choices, body, mode=mode or None, account_id=account, append_link=_flag(append_link),
                       to=to or None)
    return queue_reply(ticket, composed, author)


def measure_on_x(ticket: Ticket, body: str, *, mode: str | None = None, append_link: str | bool | None = None,
                 **_ignored) -> TextFit:
    """How X counts `body` as the reply box would send it (`tickets.outbound.measure_reply`):
    a DM by its characters, a post by X's weighted length, with the ticket link when it is
    appended. Without options, the ticket's defaults (a DM on DM tickets)."""
    if mode not in (TWEET, DM):
        mode = DM if ticket.channel == Channel.X_DM else TWEET
    body = (body or "").strip()
    if mode == DM:
        return TextFit(dm_length(body), DM_LIMIT, "X direct message")
    link = _flag(append_link)
    if link is None:
        link = bool(ticket.x_account and ticket.x_account.append_ticket_link_default)
    if link:
        return TextFit(weighted_length(appended(body, ticket_link(ticket))), TWEET_LIMIT,
                       "X post with the ticket link")
    return TextFit(weighted_length(body), TWEET_LIMIT, "X post")


class EmailRequestPreview(XReplyRefused):
    """Asking for an email sends a link that gives whoever uses it first a say on where the
    requester's replies go: the agent sees the exact text, who receives it and how (a DM,
    or a public post anyone in the thread can read) and confirms it first."""

    def __init__(self, text: str, *, public: bool, dm_possible: bool, recipient: Recipient | None):
        super().__init__("Check the email request before it is sent.")
        self.text = text
        self.public = public
        self.dm_possible = dm_possible
        self.recipient = recipient


def email_request_text(link: str) -> str:
    return f"{REQUEST_EMAIL_TEXT} {link}"


def request_email(ticket: Ticket, author: User | None, *, public: bool = False, text: str = "") -> Comment:
    """Ask the requester for an email address, with the link to the form that takes it.

    Each link is single-use and bound to the requester (`tickets.mail.capture`). It goes by
    DM when X allows one (a refusal shows on the delivery); a public post, readable by anyone
    in the thread, only when the agent asks for it or no DM is possible. Nothing is sent
    before the agent has seen and confirmed the exact `text`: without it, EmailRequestPreview
    carries the text to show (with a link made now: the one shown is the one sent)."""
    choices = reply_choices(ticket)
    dm_possible = any(mode == DM for mode, _ in choices.modes)
    public = public or not dm_possible
    if not text:
        raise EmailRequestPreview(email_request_text(request_email_link(new_email_request(ticket, author))),
                                  public=public, dm_possible=dm_possible, recipient=choices.requester)
    return queue_reply(ticket, compose(choices, text, mode=TWEET if public else DM, append_link=False), author)


def _flag(value: str | bool | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return value.strip().lower() in ("1", "on", "true", "yes")
