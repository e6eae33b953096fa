"""Delivering outgoing tweets and DMs to X, exactly once.

X offers no idempotency key for posts, so "exactly once" rests on three habits:

1. The attempt is recorded (committed) before the request leaves: `outcome_unknown` is set
   and stays set until X's answer says for sure whether the post exists. A worker that dies
   mid-request leaves that mark behind.
2. An attempt that follows an unknown outcome (a timeout, a 5xx, a dead worker) first looks
   for the post on X (`find_posted`) and only sends again when it is not there.
3. X's 403 "duplicate content" means X already has this text from this account: the post
   is treated as sent, and looked up to learn its id.

Only one worker sends a given message at a time: the claim takes the row lock and marks
the row SENDING; another worker finding it SENDING and fresh steps aside.

The row is the shared outbox's (tickets/outbox.py): written in the agent's transaction, its
task queued after commit without ever failing the agent's request, and swept up by beat when
the task never ran (broker down) or died (worker killed, database away).
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.comments import record_sent, retract_comment, show_delivery
from tickets.models import Comment
from tickets.outbox import delivery_shown, queue_delivery
from twitter_channel.accounts import connection
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.x.types import (
    XAuthError,
    XDMEvent,
    XDuplicateContent,
    XError,
    XRateLimited,
    XTransientError,
    XTweet,
)

log = logging.getLogger(__name__)

State = OutgoingMessage.State


def _setting(name: str, default: float) -> float:
    return getattr(settings, name, default)


@dataclass(frozen=True)
class Delivery:
    """What one call of `deliver` ended with; `retry_in` (seconds) when it should run again."""

    state: str
    retry_in: float | None = None


def client_for(account: XAccount):
    """The account's client, with the send timeout: an agent's reply should not wait long on X."""
    return connection.client_for(account, timeout=_setting("X_SEND_TIMEOUT_SECONDS", 10.0))


def deliver(outgoing_id: int, *, client_factory=None) -> Delivery:
    """One attempt at getting the message onto X (or finding it there already)."""
    claimed = _claim(outgoing_id)
    if claimed is None:
        state = OutgoingMessage.objects.filter(pk=outgoing_id).values_list("state", flat=True).first()
        return Delivery(state or "missing")
    outgoing, look_first = claimed
    # Whether every earlier attempt is known not to have posted (nothing earlier, or we
    # looked on X and did not find it): a refusal then leaves nothing unknown behind.
    settled = not look_first
    try:
        account = connection.refresh_token_if_expiring(outgoing.account)
        client = (client_factory or client_for)(account)
        if look_first:
            found = find_posted(outgoing, client)
            if found is not None:
                return _sent(outgoing, found)
            settled = True
        posted_id = _post(outgoing, client)
    except XDuplicateContent:
        # X already has this exact text from this account: our earlier attempt got through
        # (or, rarely, the same words were posted before). Either way, posting is over.
        found = _look_quietly(outgoing, client_factory)
        return _sent(outgoing, found, note="" if found else "X reported the post as a duplicate of one it "
                     "already has; marked sent without finding the post again.")
    except XAuthError as exc:
        connection.mark_needs_reconnect(outgoing.account, f"Sending failed: {exc.detail or exc}")
        return _failed(outgoing, f"X refused the account's token: reconnect @{outgoing.account.username}, "
                       "then retry.", unknown=not settled)
    except XRateLimited as exc:
        # Refused before X did anything: nothing posted, try again after the reset.
        wait = (exc.reset_at - timezone.now()).total_seconds() if exc.reset_at else 60.0
        return _later(outgoing, f"Rate limited by X: {exc.detail or exc}", max(wait, 1.0), unknown=not settled)
    except XTransientError as exc:
        # A timeout or 5xx: X may or may not have posted it.
        return _later(outgoing, f"X did not confirm the post: {exc.detail or exc}", _backoff(outgoing),
                      unknown=True)
    except XError as exc:
        # 400/403/404: X refused this post for good (reply not allowed, deleted parent, ...).
        return _failed(outgoing, exc.detail or str(exc), unknown=not settled)
    return _sent(outgoing, posted_id)


def retry(outgoing: OutgoingMessage) -> bool:
    """A person's "retry": queue again a message not sent yet (failed, waiting for its next
    attempt, or stuck in SENDING), with its attempts counted afresh. Whatever the last
    attempt left unknown is looked for on X before sending."""
    stale = timezone.now() - timedelta(seconds=_setting("X_SEND_STALE_SECONDS", 120))
    with transaction.atomic():
        row = OutgoingMessage.objects.select_for_update().get(pk=outgoing.pk)
        if not row.requeue(stale_before=stale):
            return False
        _show(row)
        enqueue(row.pk)
    return True


def enqueue(outgoing_id: int, countdown: float | None = None) -> None:
    """Queue the message's delivery after commit, with the task registered for the outbox
    (TwitterChannelConfig.ready)."""
    queue_delivery(OutgoingMessage, outgoing_id, countdown=countdown or None)


def _show(row: OutgoingMessage) -> None:
    """Mirror the row's state on the comment, which the ticket page shows."""
    show_delivery(row.comment_id, delivery_shown(row.state, row.outcome_unknown), row.error)


# --- the attempt ------------------------------------------------------------------------------


def _claim(outgoing_id: int) -> tuple[OutgoingMessage, bool] | None:
    """Mark the attempt before sending; None when the message is not ours to send now."""
    stale = timezone.now() - timedelta(seconds=_setting("X_SEND_STALE_SECONDS", 120))
    with transaction.atomic():
        row = (
            OutgoingMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("account")
            .filter(pk=outgoing_id)
            .first()
        )
        if row is None or row.state in (State.SENT, State.FAILED):
            return None
        if row.state == State.SENDING and row.last_attempt_at and row.last_attempt_at >= stale:
            return None  # another worker is in the middle of sending it
        look_first = row.outcome_unknown or row.state == State.SENDING
        row.state = State.SENDING
        row.outcome_unknown = True
        row.attempts += 1
        row.last_attempt_at = timezone.now()
        row.save(update_fields=["state", "outcome_unknown", "attempts", "last_attempt_at"])
        _show(row)
    return row, look_first


def _post(outgoing: OutgoingMessage, client) -> str:
    if outgoing.is_tweet:
        return client.create_tweet(outgoing.text, in_reply_to_tweet_id=outgoing.in_reply_to_tweet_id or None).id
    if outgoing.dm_conversation_id:
        sent = client.send_dm(outgoing.text, dm_conversation_id=outgoing.dm_conversation_id)
    else:
        sent = client.send_dm(outgoing.text, participant_id=outgoing.recipient_x_id)
        OutgoingMessage.objects.filter(pk=outgoing.pk).update(dm_conversation_id=sent.dm_conversation_id)
        outgoing.dm_conversation_id = sent.dm_conversation_id
    return sent.dm_event_id


def _backoff(outgoing: OutgoingMessage) -> float:
    base = _setting("X_SEND_BACKOFF_SECONDS", 30.0)
    return min(base * 2 ** max(outgoing.attempts - 1, 0), 900.0)


# --- outcomes ------------------------------------------------------------------------------------


def _later(outgoing: OutgoingMessage, reason: str, wait: float, *, unknown: bool) -> Delivery:
    if outgoing.attempts >= _setting("X_SEND_MAX_ATTEMPTS", 5):
        return _failed(outgoing, f"{reason} (gave up after {outgoing.attempts} attempts)", unknown=unknown)
    OutgoingMessage.objects.filter(pk=outgoing.pk).update(
        state=State.QUEUED, error=reason[:2000], outcome_unknown=unknown,
        next_attempt_at=timezone.now() + timedelta(seconds=wait))
    show_delivery(outgoing.comment_id, delivery_shown(State.QUEUED, unknown), reason)
    return Delivery(State.QUEUED, retry_in=wait)


def _failed(outgoing: OutgoingMessage, reason: str, *, unknown: bool) -> Delivery:
    # With `unknown` set, the person's retry looks on X before sending again.
    OutgoingMessage.objects.filter(pk=outgoing.pk).update(state=State.FAILED, error=reason[:2000],
                                                          outcome_unknown=unknown)
    show_delivery(outgoing.comment_id, Comment.Delivery.FAILED, reason)
    log.warning("Outgoing X message %s failed: %s", outgoing.pk, reason)
    return Delivery(State.FAILED)


def _sent(outgoing: OutgoingMessage, x_id: str | None, *, note: str = "") -> Delivery:
    source = Comment.Source.TWEET if outgoing.is_tweet else Comment.Source.DM
    with transaction.atomic():
        row = OutgoingMessage.objects.select_for_update().select_related("account").get(pk=outgoing.pk)
        comment = Comment.objects.select_for_update().get(pk=row.comment_id)
        row.state = State.SENT
        row.outcome_unknown = False
        row.x_id = x_id or ""
        row.error = note
        row.sent_at = timezone.now()
        row.save()
        if x_id:
            _absorb_echo(source, x_id, comment)
        record_sent(comment, note=note, external_source=source, external_id=x_id,
                    external_url=post_url(row.account, x_id) if x_id and outgoing.is_tweet else "")
    return Delivery(State.SENT)


def post_url(account: XAccount, tweet_id: str) -> str:
    return f"https://x.com/{account.username}/status/{tweet_id}"


def _absorb_echo(source: str, x_id: str, comment: Comment) -> None:
    """When the poll saw our post before we learnt its id (a timed-out request, later found
    on X), conversion added the echo as a comment of its own. Ours is the real one: the echo
    comment goes, and the items that pointed at it point at ours."""
    echo = Comment.objects.filter(external_source=source, external_id=x_id).exclude(pk=comment.pk).first()
    if echo is None:
        return
    if echo.author_user_id or echo.author_requester_id or echo.ticket_id != comment.ticket_id:
        raise ValueError(f"X id {x_id} already belongs to comment {echo.pk}")
    IncomingItem.objects.filter(comment=echo).update(comment=comment, ticket_id=comment.ticket_id)
    retract_comment(echo)


# --- finding a post that may have been made ------------------------------------------------------------


def _look_quietly(outgoing: OutgoingMessage, client_factory) -> str | None:
    try:
        return find_posted(outgoing, (client_factory or client_for)(outgoing.account))
    except XError as exc:
        log.info("Could not look for outgoing X message %s: %s", outgoing.pk, exc)
        return None


def find_posted(outgoing: OutgoingMessage, client) -> str | None:
    """The id of our post if X has it already: the brand's reply to the same post (tweets)
    or message in the same conversation (DMs) with the same text, not claimed by another
    outgoing message. Looks at what polling stored first, then asks X."""
    taken = set(
        OutgoingMessage.objects.filter(account_id=outgoing.account_id, kind=outgoing.kind)
        .exclude(pk=outgoing.pk).exclude(x_id="").values_list("x_id", flat=True)
    )
    stored = _stored_echo(outgoing, taken)
    if stored:
        return stored
    if outgoing.is_tweet:
        return _find_tweet(outgoing, client, taken)
    return _find_dm(outgoing, client, taken)


def _stored_echo(outgoing: OutgoingMessage, taken: set[str]) -> str | None:
    kind = IncomingItem.Kind.OWN_TWEET if outgoing.is_tweet else IncomingItem.Kind.OWN_DM
    echoes = IncomingItem.objects.filter(account_id=outgoing.account_id, kind=kind).defer("raw")
    if outgoing.is_tweet:
        echoes = echoes.filter(in_reply_to_id=outgoing.in_reply_to_tweet_id)
    elif outgoing.dm_conversation_id:
        echoes = echoes.filter(conversation_key=outgoing.dm_conversation_id)
    for echo in echoes.order_by("-id")[:50]:
        if echo.x_id not in taken and same_text(echo.text, outgoing.text):
            return echo.x_id
    return None


def _find_tweet(outgoing: OutgoingMessage, client, taken: set[str]) -> str | None:
    # X has no "my recent posts" in the adapter, but it puts a reply in the mentions of the
    # author it answers: the recipient's mentions since the post we replied to hold ours.
    if not (outgoing.in_reply_to_tweet_id and outgoing.recipient_x_id):
        return None
    page = client.get_mentions(outgoing.recipient_x_id, since_id=outgoing.in_reply_to_tweet_id, max_results=100)
    for tweet in page.items:
        if (
            isinstance(tweet, XTweet)
            and tweet.author_id == outgoing.account.user_id
            and tweet.replied_to_id == outgoing.in_reply_to_tweet_id
            and tweet.id not in taken
            and same_text(tweet.text, outgoing.text)
        ):
            return tweet.id
    return None


def _find_dm(outgoing: OutgoingMessage, client, taken: set[str]) -> str | None:
    conversation = outgoing.dm_conversation_id or one_to_one_id(outgoing.account.user_id, outgoing.recipient_x_id)
    since = (outgoing.created_at or timezone.now()) - timedelta(minutes=5)
    page = client.get_dm_events(max_results=100)
    for event in page.items:
        if (
            isinstance(event, XDMEvent)
            and event.event_type == "MessageCreate"
            and event.sender_id == outgoing.account.user_id
            and event.dm_conversation_id == conversation
            and event.id not in taken
            and (event.created_at is None or event.created_at >= since)
            and same_text(event.text, outgoing.text)
        ):
            return event.id
    return None


def one_to_one_id(a: str, b: str) -> str:
    """X's id of the 1:1 DM conversation of two users: both ids, numerically smaller first."""
    lo, hi = sorted([a, b], key=lambda v: (len(v), v))
    return f"{lo}-{hi}"


_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def same_text(theirs: str, ours: str) -> bool:
    """Whether X's text is the text we sent: X wraps links in t.co, escapes &<> as HTML
    entities and may trim whitespace, so those differences do not count."""

    def norm(text: str) -> str:
        return " ".join(_URL.sub("<url>", html.unescape(text or "")).split())

    return norm(theirs) == norm(ours)
