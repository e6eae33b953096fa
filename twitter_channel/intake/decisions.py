"""What a stored X item becomes: decided from the item, a policy and what was looked up,
without touching the database (`decide`); `conversion` applies the decision.

Two policies: the intake's (`AUTOMATIC`: deleted posts are redacted, edits shown on the
comment they edit, the account's capture settings, retweets and noise rules obeyed) and an
admin's "Convert" (`BY_HAND`: the item becomes a ticket whatever the intake decided about
it; only its threading is kept). Both go through the same decision and the same code that
applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from tickets.models import Channel, Comment
from twitter_channel.intake.edits import has_earlier_versions
from twitter_channel.intake.incoming import CONVERTIBLE_KINDS
from twitter_channel.models import IncomingItem

Kind = IncomingItem.Kind
State = IncomingItem.State


@dataclass(frozen=True)
class Policy:
    """How conversion treats an item."""

    # Deleted posts, edits, the account's capture settings, retweets and noise rules.
    obeys_intake_rules: bool = True
    # A like of a reply joins its thread's ticket (by hand) rather than opening its own.
    like_joins_thread: bool = False
    # What a ticketed item says about how it got there ("" for the intake's usual words).
    ticketed_reason: str = ""


AUTOMATIC = Policy()
BY_HAND = Policy(obeys_intake_rules=False, like_joins_thread=True, ticketed_reason="Converted by hand")


@dataclass
class Known:
    """What was looked up for the items being decided, so deciding needs no query.

    `comments`: (source, x id) -> the comment already holding that post or DM, None when
    looked up and not found (every item decided must have been looked up). `deletions`:
    (x id, is DM) -> when X said it was deleted. `edited`: x id of a newer version of a post
    -> the comment holding an earlier version (looked up for items with earlier versions).
    `busy_dms`: for a batch, the DM conversations that already have a ticket or an older
    item still to convert elsewhere (None: not looked up; such a DM joins its conversation).
    `noise`: the noise rules' verdict on an item (None keeps it)."""

    comments: dict[tuple[str, str], Comment | None] = field(default_factory=dict)
    deletions: dict[tuple[str, bool], datetime] = field(default_factory=dict)
    edited: dict[str, Comment] = field(default_factory=dict)
    busy_dms: dict | None = None
    noise: Callable[[IncomingItem], object | None] = lambda item: None


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redact:
    """X said the post or DM was deleted before it reached a ticket."""

    deleted_at: datetime


@dataclass(frozen=True)
class SetAside:
    state: str
    reason: str
    rule_id: int | None = None
    rule: str = ""


@dataclass(frozen=True)
class Link:
    """The post or DM is already a comment (posted by the helpdesk, or fetched through another
    stream or account): the item points at it instead of doubling it."""

    comment: Comment
    state: str = State.TICKETED


@dataclass(frozen=True)
class ShowEdit:
    """A newer version of a post held as `comment`: the comment shows it."""

    comment: Comment


@dataclass(frozen=True)
class Open:
    """A new ticket with the item as its first comment."""

    channel: str
    comment_channel: str
    source: str


@dataclass(frozen=True)
class Join:
    """The item joins the ticket of its thread (`dm`: its DM conversation), or opens one
    (as `Open` would) when there is none."""

    dm: bool
    channel: str
    comment_channel: str
    source: str


@dataclass(frozen=True)
class AddOwn:
    """The brand's own post or DM goes on its thread's (conversation's) ticket, if any."""

    dm: bool
    channel: str
    source: str
    alone: str  # why it stays aside when there is no ticket


Decision = Redact | SetAside | Link | ShowEdit | Open | Join | AddOwn


def refused_by_hand(item: IncomingItem) -> str:
    """Why an admin's "Convert" cannot make a ticket of the item ("" when it can)."""
    if item.kind not in CONVERTIBLE_KINDS:
        return "The brand's own posts and messages do not become tickets"
    if item.is_group:
        return "Group DMs never become tickets: there is no one requester to answer"
    if item.kind == Kind.DM and not item.is_message:
        return "This event is not a message (someone joined or left a conversation)"
    return ""


def decide(item: IncomingItem, policy: Policy, known: Known) -> Decision:
    """What `item` becomes under `policy`, from what `known` holds; no query, no write."""
    if policy.obeys_intake_rules and (item.x_id, item.kind in (Kind.DM, Kind.OWN_DM)) in known.deletions:
        return Redact(known.deletions[item.x_id, item.kind in (Kind.DM, Kind.OWN_DM)])
    return {
        Kind.MENTION: _mention,
        Kind.LIKE: _like,
        Kind.DM: _dm,
        Kind.OWN_TWEET: _own_tweet,
        Kind.OWN_DM: _own_dm,
    }[item.kind](item, policy, known)


def _mention(item: IncomingItem, policy: Policy, known: Known) -> Decision:
    account = item.account
    stored = known.comments[Comment.Source.TWEET, item.x_id]
    if stored is not None:
        return Link(stored)
    if policy.obeys_intake_rules:
        if item.x_id in known.edited:
            return ShowEdit(known.edited[item.x_id])
        if item.is_retweet and account.ignore_retweets:
            return SetAside(State.RETWEET, "Retweet; the account ignores retweets")
        if not account.capture_mentions:
            return SetAside(State.NOT_CAPTURED, "Mentions are not captured for this account")
        ignored = _ignored(item, known)
        if ignored:
            return ignored
    return _in_thread(item, Channel.X)


def _like(item: IncomingItem, policy: Policy, known: Known) -> Decision:
    account = item.account
    if policy.obeys_intake_rules and item.author_x_id == account.user_id:
        return SetAside(State.OWN, "The brand liked its own post")
    stored = known.comments[Comment.Source.TWEET, item.x_id]
    if stored is not None:
        return Link(stored)
    if policy.obeys_intake_rules:
        if not account.capture_likes:
            return SetAside(State.NOT_CAPTURED, "Likes are not captured for this account")
        ignored = _ignored(item, known)
        if ignored:
            return ignored
    if policy.like_joins_thread:
        return _in_thread(item, Channel.X_LIKE)
    return Open(Channel.X_LIKE, Channel.X, Comment.Source.TWEET)


def _dm(item: IncomingItem, policy: Policy, known: Known) -> Decision:
    account = item.account
    if item.is_group:
        return SetAside(State.GROUP_DM, "Group conversation; group DMs never become tickets")
    stored = known.comments[Comment.Source.DM, item.x_id]
    if stored is not None:
        return Link(stored)
    if policy.obeys_intake_rules:
        if not account.capture_dms:
            return SetAside(State.NOT_CAPTURED, "Direct messages are not captured for this account")
        ignored = _ignored(item, known)
        if ignored:
            return ignored
    if known.busy_dms is not None and not _dm_conversation_taken(item, known.busy_dms):
        return Open(Channel.X_DM, Channel.X_DM, Comment.Source.DM)
    return Join(dm=True, channel=Channel.X_DM, comment_channel=Channel.X_DM, source=Comment.Source.DM)


def _own_tweet(item: IncomingItem, policy: Policy, known: Known) -> Decision:
    # The echo of a reply the helpdesk posted: its comment already carries this post's id.
    stored = known.comments[Comment.Source.TWEET, item.x_id]
    if stored is not None:
        return Link(stored, state=State.OWN)
    return AddOwn(dm=False, channel=Channel.X, source=Comment.Source.TWEET,
                  alone="The brand's post is not part of any ticket")


def _own_dm(item: IncomingItem, policy: Policy, known: Known) -> Decision:
    if item.is_group:
        return SetAside(State.GROUP_DM, "Group conversation; group DMs never become tickets")
    stored = known.comments[Comment.Source.DM, item.x_id]
    if stored is not None:
        return Link(stored, state=State.OWN)
    return AddOwn(dm=True, channel=Channel.X_DM, source=Comment.Source.DM,
                  alone="The brand's DM is not part of any ticket")


def _in_thread(item: IncomingItem, channel: str) -> Open | Join:
    """A post that starts a thread opens a ticket; a reply joins its thread's ticket, if any."""
    if is_reply(item):
        return Join(dm=False, channel=channel, comment_channel=Channel.X, source=Comment.Source.TWEET)
    return Open(channel, Channel.X, Comment.Source.TWEET)


def is_reply(item: IncomingItem) -> bool:
    return any(tweet_id and tweet_id != item.x_id for tweet_id in (item.in_reply_to_id, item.conversation_key))


def _ignored(item: IncomingItem, known: Known) -> SetAside | None:
    verdict = known.noise(item)
    if verdict is None:
        return None
    return SetAside(State.IGNORED, verdict.reason, rule_id=verdict.rule_id, rule=verdict.rule_name[:200])


def _dm_conversation_taken(item: IncomingItem, taken: dict) -> bool:
    key = (item.account_id, item.conversation_key)
    older = taken["pending"].get(key)
    return key in taken["ticketed"] or (older is not None and older < item.pk)


def may_be_an_edit(item: IncomingItem) -> bool:
    return item.kind == Kind.MENTION and has_earlier_versions(item)
