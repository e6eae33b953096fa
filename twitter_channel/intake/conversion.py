"""Turning stored X items into tickets and comments.

Runs after polling, never inside it: a poll only stores. What an item becomes is decided
without touching the database (`decisions.decide`, under the intake's policy or an admin's
"Convert") from what was looked up for its batch (`lookups`, `authors`); this module claims
the batches and applies the decisions. Each item is converted under a row lock, and its
new state is saved in the same transaction, so an item is converted once even when two
converters (or the sweeper) run at the same time and a killed worker leaves nothing half
done. The comment's external
id (post or DM event id) is unique as well, which also recognises the echo of a reply the
helpdesk posted itself.

Tickets are written only through the tickets app's services (`open_tickets_with_comments`,
`add_messages`, `open_ticket_with_comment`, `add_comment`, `tickets.requesters`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from business_rules.noise import NoiseCandidate, NoiseVerdict, matching_rule
from tickets.comments import (
    Message,
    Opening,
    TicketFull,
    add_comment,
    add_messages,
    open_ticket_with_comment,
    open_tickets_with_comments,
)
from tickets.models import Comment, Requester
from twitter_channel.intake.authors import requester_for, requesters_ahead, with_batch_authors
from twitter_channel.intake.decisions import (
    AUTOMATIC,
    AddOwn,
    Decision,
    Join,
    Known,
    Link,
    Open,
    Policy,
    Redact,
    SetAside,
    ShowEdit,
    decide,
    may_be_an_edit,
)
from twitter_channel.intake.edits import comments_edited_by, show_post_edit
from twitter_channel.intake.lookups import (
    dm_conversation_ticket,
    dm_conversations_taken,
    older_item_pending,
    older_items_pending,
    stored_comments,
    stored_comments_now,
    thread_ids,
    thread_ticket,
    tickets_of_threads,
)
from twitter_channel.intake.redaction import deletions_among, redact_item
from twitter_channel.intake.texts import body_for, subject_for
from twitter_channel.models import IncomingItem

log = logging.getLogger(__name__)

Kind = IncomingItem.Kind
State = IncomingItem.State

SAVED_FIELDS = ["state", "state_reason", "ticket", "comment", "ignored_by_rule_id", "rule", "attempts", "converted_at"]

# What applying a decision did (`convert_item`'s answer, which "Convert" reports).
OPENED = "opened"  # a new ticket, the item its first comment
ADDED = "added"  # the item joined an existing ticket
LINKED = "linked"  # the post or DM was on a ticket already


@dataclass
class ConversionStats:
    converted: int = 0
    quarantined: int = 0
    deferred: int = 0
    unfinished: bool = False

    def __iadd__(self, other: ConversionStats) -> ConversionStats:
        self.converted += other.converted
        self.quarantined += other.quarantined
        self.deferred += other.deferred
        return self


# --- driving -------------------------------------------------------------------------------


def convert_pending(
    account_id: int | None = None, *, limit: int | None = None, time_budget: float | None = None
) -> ConversionStats:
    """Convert stored items still in state new, oldest first, in small locked batches,
    until none is left (or `limit` items / `time_budget` seconds have gone by).

    Each batch is claimed with one `SELECT ... FOR UPDATE SKIP LOCKED` and converted in one
    transaction (one savepoint per item): converters running in parallel take disjoint
    batches, and a converter killed mid-batch leaves its batch in state new for the next."""
    started = time.monotonic()
    stats = ConversionStats()
    deferred: set[int] = set()
    batch_size = settings.X_CONVERT_BATCH_SIZE
    while limit is None or stats.converted + stats.quarantined < limit:
        if time_budget is not None and time.monotonic() - started > time_budget:
            stats.unfinished = True
            break
        pending = IncomingItem.objects.filter(state=State.NEW).exclude(pk__in=deferred)
        if account_id is not None:
            pending = pending.filter(account_id=account_id)
        requesters = requesters_ahead(pending, batch_size)
        if requesters is None:
            break
        with transaction.atomic():
            batch = list(
                pending.select_for_update(skip_locked=True, of=("self",))
                .select_related("account", "account__default_group")
                # Converting never reads the raw JSON (only parsing it again does), nor the
                # account's tokens (a token read is a token decrypted, here once per item).
                .defer("raw", "account__access_token", "account__refresh_token")
                .order_by("id")[:batch_size]
            )
            if not batch:
                break
            requesters = with_batch_authors(batch, requesters)
            known = look_up(batch)
            rest = open_simple_items(batch, known, requesters)
            stats.converted += len(batch) - len(rest)
            # Items of a conversation the set-based part opened (or met busy) join it now.
            known.busy_dms = None
            for item, outcome in convert_rest(rest, known, requesters):
                if outcome == "deferred":
                    deferred.add(item.pk)
                    stats.deferred += 1
                elif outcome == State.QUARANTINED:
                    stats.quarantined += 1
                else:
                    stats.converted += 1
    return stats


def look_up(batch: list[IncomingItem]) -> Known:
    """What deciding the batch's items needs, in a query each: the comments already holding
    their posts and DMs, the deletions X told us about, the DM conversations already taken."""
    return Known(comments=stored_comments(batch), deletions=deletions_among(batch),
                 busy_dms=dm_conversations_taken(batch), noise=noise_verdict)


def open_simple_items(batch: list[IncomingItem], known: Known,
                      requesters: Mapping[str, Requester]) -> list[IncomingItem]:
    """The set-based part of converting a locked batch; returns the items left to convert one
    by one (`_convert_locked`), in order.

    Most of a burst needs nothing but what the batch has already looked up: a mention that
    starts a thread, a like, the first DM of a conversation without a ticket each open a
    ticket; a retweet, an item of a stream the account does not capture, one a noise rule
    ignores or one already on a ticket is left aside or linked. Their tickets are opened with
    two multi-row INSERTs (`open_tickets_with_comments`) and the items saved with one UPDATE,
    inside the batch's transaction. Anything that may join an existing ticket (a reply, a
    later DM of a conversation, an edit), a deleted post, the brand's own posts, and every
    later item of a conversation the batch has already met are left for `convert_rest`,
    after these: replies together, the others one by one."""
    seen_conversations: set[tuple[int, str]] = set()
    opening_ids: set[tuple[str, str]] = set()
    decided: list[IncomingItem] = []
    openings: list[tuple[IncomingItem, Opening]] = []
    rest: list[IncomingItem] = []
    for item in batch:
        conversation = (item.account_id, item.conversation_key or item.x_id)
        first_of_conversation = conversation not in seen_conversations
        seen_conversations.add(conversation)
        decision = opening = None
        # An edit waits for its turn: the post it edits may be opened by this very batch.
        if first_of_conversation and not may_be_an_edit(item):
            try:
                decision = decide(item, AUTOMATIC, known)
                if isinstance(decision, Open):
                    if (decision.source, item.x_id) in opening_ids or item.author_x_id not in requesters:
                        decision = None  # linked to the opening one by one / its requester looked up alone
                    else:
                        opening = _opening(item, decision, requester_for(item, requesters))
                elif not isinstance(decision, SetAside | Link):
                    decision = None
            except Exception:  # noqa: BLE001 — converted one by one, it fails again there and quarantines alone
                log.debug("X item %s left to one-by-one conversion", item.pk, exc_info=True)
                decision = None
        if decision is None:
            rest.append(item)
        elif opening is not None:
            openings.append((item, opening))
            opening_ids.add((opening.external_source, item.x_id))
        else:
            apply(item, decision, requesters)
            decided.append(item)
    if openings:
        try:
            with transaction.atomic():
                opened = open_tickets_with_comments([opening for _, opening in openings])
        except IntegrityError:
            # A parallel converter stored one of these posts after the batch looked them up:
            # one by one, each finds its comment (or quarantines for a reason of its own).
            log.info("Opening %d tickets at once met a stored post; converting them one by one", len(openings))
            for item, _ in openings:
                known.comments.update(stored_comments_now(item))
            rest = sorted(rest + [item for item, _ in openings], key=lambda i: i.pk)
        else:
            for (item, _), comment in zip(openings, opened, strict=True):
                _ticketed(item, comment, State.TICKETED)
                known.comments[comment.external_source, comment.external_id] = comment
                decided.append(item)
    now = timezone.now()
    for item in decided:
        item.attempts += 1
        item.converted_at = now
    # Saved before the one-by-one items: they look up the tickets these items opened.
    save_items(decided)
    return rest


def convert_rest(rest: list[IncomingItem], known: Known,
                 requesters: Mapping[str, Requester]) -> list[tuple[IncomingItem, str]]:
    """Convert what `open_simple_items` left, in order; returns each item with its new state
    (or "deferred"). Replies that join their threads' tickets go together (`join_replies`);
    anything else one by one (`_convert_locked`), once the replies before it are in, and
    saved at once: later items look up the tickets of earlier ones."""
    outcomes: list[tuple[IncomingItem, str]] = []
    replies: list[tuple[IncomingItem, Join]] = []
    posts: set[str] = set()  # the replies' own ids
    for item in rest:
        decision = _joins_its_thread(item, known, requesters)
        if replies and (decision is None or item.x_id in posts):
            outcomes += join_replies(replies, known, requesters)
            replies, posts = [], set()
        if decision is None:
            outcomes.append((item, _convert_locked(item, known, requesters)))
        else:
            replies.append((item, decision))
            posts.add(item.x_id)
    return outcomes + join_replies(replies, known, requesters)


def _joins_its_thread(item: IncomingItem, known: Known, requesters: Mapping[str, Requester]) -> Join | None:
    """The item's decision if it is a reply to join its thread's ticket (or open one)."""
    if may_be_an_edit(item) or item.author_x_id not in requesters:
        return None
    try:
        decision = decide(item, AUTOMATIC, known)
    except Exception:  # noqa: BLE001 — converted one by one, it fails again there and quarantines alone
        log.debug("X item %s left to one-by-one conversion", item.pk, exc_info=True)
        return None
    return decision if isinstance(decision, Join) and not decision.dm else None


def join_replies(replies: list[tuple[IncomingItem, Join]], known: Known,
                 requesters: Mapping[str, Requester]) -> list[tuple[IncomingItem, str]]:
    """Replies joining their threads' tickets, in order, set-based: one query finds which must
    wait for an older item of their thread (`older_items_pending`), one finds their threads'
    tickets, their comments go in with `add_messages`, and the items are saved with one
    UPDATE. A reply to a reply among them joins where that one goes, as `thread_ticket` would
    find it once that one is in. A reply whose thread has no ticket (and a reply to it), and
    all of them when adding meets a problem (a post a parallel converter stored meanwhile, a
    lock conflict), are converted one by one afterwards, in order."""
    if not replies:
        return []
    waiting = older_items_pending([item for item, _ in replies])
    outcomes: list[tuple[IncomingItem, str]] = [(item, "deferred") for item, _ in replies if item.pk in waiting]
    ready = [(item, decision) for item, decision in replies if item.pk not in waiting]
    stored = tickets_of_threads([item for item, _ in ready])
    # Where each reply goes: a ticket id, or None when it is converted one by one (or waits).
    goes_to: dict[str, int | None] = {item.x_id: None for item, _ in replies if item.pk in waiting}
    tickets: dict[int, int] = {}
    for item, _ in ready:
        post = next((post for post in thread_ids(item) if post in goes_to or post in stored), None)
        ticket_id = goes_to[post] if post in goes_to else stored.get(post)
        goes_to[item.x_id] = ticket_id
        if ticket_id is not None:
            tickets[item.pk] = ticket_id
    joining = [(item, decision) for item, decision in ready if item.pk in tickets]
    try:
        with transaction.atomic():
            comments = add_messages([
                Message(ticket_id=tickets[item.pk], requester=requesters[item.author_x_id], body=body_for(item),
                        channel=decision.comment_channel, external_source=decision.source, external_id=item.x_id)
                for item, decision in joining
            ])
    except Exception as exc:  # noqa: BLE001 — one by one, each meets it alone (and links, waits or quarantines)
        log.info("Adding %d replies at once failed (%s); converting them one by one", len(joining), exc)
        if isinstance(exc, IntegrityError):
            for item, _ in joining:
                known.comments.update(stored_comments_now(item))
        joining, comments = [], []
    now = timezone.now()
    for (item, _), comment in zip(joining, comments, strict=True):
        # add_messages may have carried the message on to a follow-up of a closed ticket.
        _ticketed(item, comment, State.TICKETED)
        item.attempts += 1
        item.converted_at = now
        known.comments[comment.external_source, comment.external_id] = comment
        outcomes.append((item, item.state))
    save_items([item for item, _ in joining])
    joined = {item.pk for item, _ in joining}
    for item, _ in ready:
        if item.pk not in joined:
            outcomes.append((item, _convert_locked(item, known, requesters)))
    return outcomes


def save_items(items: list[IncomingItem]) -> None:
    """SAVED_FIELDS of many items in one UPDATE ... FROM UNNEST(...). Django's bulk_update
    writes a CASE with a branch per row for every column, which PostgreSQL evaluates row by
    row: quadratic, seconds for a batch of 200."""
    if not items:
        return
    if connection.vendor != "postgresql":  # SQLite (make run without DATABASE_URL): small batches anyway
        IncomingItem.objects.bulk_update(items, SAVED_FIELDS)
        return
    table = IncomingItem._meta.db_table
    # One array per column: a placeholder per value would be parsed anew for every batch.
    columns = [list(column) for column in zip(*(
        (item.pk, item.state, item.state_reason, item.ticket_id, item.comment_id, item.ignored_by_rule_id,
         item.rule, item.attempts, item.converted_at) for item in items), strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS item SET state = v.state, state_reason = v.state_reason, "
            "ticket_id = v.ticket_id, comment_id = v.comment_id, ignored_by_rule_id = v.rule_id, rule = v.rule, "
            "attempts = v.attempts, converted_at = v.converted_at "
            "FROM UNNEST(%s::bigint[], %s::varchar[], %s::text[], %s::bigint[], %s::bigint[], %s::integer[], "
            "%s::varchar[], %s::smallint[], %s::timestamptz[]) "
            "AS v(id, state, state_reason, ticket_id, comment_id, rule_id, rule, attempts, converted_at) "
            "WHERE item.id = v.id",
            columns,
        )


def convert_item_by_id(pk: int) -> str | None:
    """Convert one item; returns its new state, "deferred", or None when another converter
    holds it or it was already converted."""
    with transaction.atomic():
        # skip_locked: a converter running in parallel owns this item; leave it to them.
        item = (
            IncomingItem.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("account", "account__default_group")
            .filter(pk=pk, state=State.NEW)
            .first()
        )
        if item is None:
            return None
        known = Known(comments=stored_comments([item]), deletions=deletions_among([item]), noise=noise_verdict)
        return _convert_locked(item, known, {})


def _convert_locked(item: IncomingItem, known: Known, requesters: Mapping[str, Requester]) -> str:
    """Convert an item the caller holds locked, inside the caller's transaction."""
    if older_item_pending(item):
        # A reply must not overtake its parent: converted in parallel, it would find no
        # ticket to join and open its own. It waits for the next round.
        return "deferred"
    try:
        try:
            with transaction.atomic():
                convert_item(item, AUTOMATIC, known, requesters)
        except IntegrityError:
            # Most likely a parallel converter stored this very post or DM (the same post
            # fetched as a mention and as a like) after the batch looked its id up: look
            # again, it now links to that comment. Anything else fails again and quarantines.
            known.comments.update(stored_comments_now(item))
            with transaction.atomic():
                convert_item(item, AUTOMATIC, known, requesters)
    except OperationalError as exc:
        # A deadlock or lock timeout with a parallel converter says nothing about the item:
        # it stays new and is converted in the next round.
        log.info("X item %s deferred after a database conflict: %s", item.pk, exc)
        return "deferred"
    except Exception as exc:  # noqa: BLE001 — any failure quarantines this one item, never the batch
        log.warning("X item %s (%s) quarantined: %s", item.pk, item.kind, exc)
        quarantine(item, f"{type(exc).__name__}: {exc}")
    item.attempts += 1
    item.converted_at = timezone.now()
    item.save(update_fields=SAVED_FIELDS)
    if item.comment is not None and item.comment.external_id:
        # Later items of the batch with the same id (the like of a post just ticketed) link to it.
        known.comments[item.comment.external_source, item.comment.external_id] = item.comment
    return item.state


def convert_locked_item(item: IncomingItem, policy: Policy) -> str | None:
    """Convert an item the caller holds locked under `policy` (an admin's "Convert"),
    parsing its raw JSON again first if it never parsed; raises whatever stops it (the
    caller's savepoint then leaves the item as it was). Returns what happened."""
    if item.x_id.startswith("malformed:") or not item.author_x_id:
        reparse(item)  # raises when the raw JSON still cannot be read
    return convert_item(item, policy, Known(comments=stored_comments([item])), {})


def quarantine(item: IncomingItem, reason: str) -> None:
    item.state = State.QUARANTINED
    item.state_reason = reason[:2000]
    item.ticket = None
    item.comment = None


def retry_quarantined(item: IncomingItem) -> str | None:
    """An admin's "retry": parse the raw JSON again if it never parsed, then convert."""
    with transaction.atomic():
        item = IncomingItem.objects.select_for_update().get(pk=item.pk)
        if item.state != State.QUARANTINED:
            return item.state
        if item.x_id.startswith("malformed:") or not item.author_x_id:
            try:
                reparse(item)
            except Exception as exc:  # noqa: BLE001 — still unparseable: stays quarantined, says why
                item.state_reason = f"Could not parse: {exc}"[:2000]
                item.attempts += 1
                item.save()
                return item.state
        item.state = State.NEW
        item.state_reason = ""
        item.save()
    return convert_item_by_id(item.pk)


def reparse(item: IncomingItem) -> None:
    """Fill the item's parsed columns from its raw JSON with the adapter's parser."""
    from twitter_channel.intake import store
    from twitter_channel.x import parsing as x_parsing

    if item.kind in (Kind.DM, Kind.OWN_DM):
        fresh = store.item_from_dm(item.account, x_parsing.parse_dm_event(item.raw), {})
    else:
        stream = "likes" if item.kind == Kind.LIKE else "mentions"
        fresh = store.item_from_tweet(item.account, stream, x_parsing.parse_tweet(item.raw), {})
    if fresh.x_id != item.x_id and not item.x_id.startswith("malformed:"):
        raise ValueError("raw JSON holds a different id")
    for name in ("author_x_id", "text", "urls", "x_created_at", "conversation_key", "in_reply_to_id",
                 "is_retweet", "is_quote", "quoted_id", "edit_history_ids", "mentioned_usernames", "is_group",
                 "event_type"):
        setattr(item, name, getattr(fresh, name))


# --- applying ----------------------------------------------------------------------------


def convert_item(item: IncomingItem, policy: Policy, known: Known,
                 requesters: Mapping[str, Requester]) -> str | None:
    """Decide what `item` becomes and apply it (the item is saved by the caller); returns
    what happened (OPENED, ADDED, LINKED, or None when the item was left aside)."""
    if policy.obeys_intake_rules and may_be_an_edit(item):
        # Looked up now, not with the batch: the post it edits may be an earlier item's.
        known.edited.pop(item.x_id, None)
        known.edited.update(comments_edited_by([item]))
    happened = apply(item, decide(item, policy, known), requesters)
    if policy.ticketed_reason and item.state == State.TICKETED:
        item.state_reason = policy.ticketed_reason
    return happened


def apply(item: IncomingItem, decision: Decision, requesters: Mapping[str, Requester]) -> str | None:
    """Carry out `decision` on the item and the tickets; the item is saved by the caller."""
    if isinstance(decision, Redact):
        redact_item(item, decision.deleted_at)
        return None
    if isinstance(decision, SetAside):
        _set(item, decision.state, decision.reason)
        item.ignored_by_rule_id = decision.rule_id
        item.rule = decision.rule
        return None
    if isinstance(decision, Link):
        _ticketed(item, decision.comment, decision.state, "Already on a ticket")
        return LINKED
    if isinstance(decision, ShowEdit):
        show_post_edit(item, decision.comment, body_for(item))
        return LINKED
    if isinstance(decision, Open):
        # stored_comments() has just found no comment with this id; should one appear
        # meanwhile, IntegrityError (see _convert_locked).
        comment = _open(_opening(item, decision, requester_for(item, requesters)))
        _ticketed(item, comment, State.TICKETED)
        return OPENED
    if isinstance(decision, Join):
        ticket = dm_conversation_ticket(item) if decision.dm else thread_ticket(item)
        requester = requester_for(item, requesters)
        if ticket is None:
            opening = _opening(item, Open(decision.channel, decision.comment_channel, decision.source), requester)
            _ticketed(item, _open(opening), State.TICKETED)
            return OPENED
        comment = add_comment(
            ticket, body=body_for(item), author_requester=requester, channel=decision.comment_channel,
            external_source=decision.source, external_id=item.x_id,
            known_new=True,  # stored_comments() looked it up
        )
        # add_comment may have carried the message on to a follow-up of a closed ticket.
        _ticketed(item, comment, State.TICKETED)
        return ADDED if comment.ticket_id == ticket.pk else OPENED
    assert isinstance(decision, AddOwn)
    return _add_own(item, decision)


def _add_own(item: IncomingItem, decision: AddOwn) -> str | None:
    ticket = dm_conversation_ticket(item) if decision.dm else thread_ticket(item)
    if ticket is None:
        _set(item, State.OWN, decision.alone)
        return None
    try:
        comment = add_comment(
            ticket, body=body_for(item), is_public=True, channel=decision.channel, external_source=decision.source,
            external_id=item.x_id, known_new=True,  # stored_comments() looked it up
        )
    except TicketFull:
        _set(item, State.OWN, f"Ticket #{ticket.pk} is full; the brand's message was not added")
        return None
    _ticketed(item, comment, State.OWN)
    return ADDED


def _opening(item: IncomingItem, decision: Open, requester: Requester) -> Opening:
    account = item.account
    return Opening(requester=requester, subject=subject_for(item), body=body_for(item), channel=decision.channel,
                   comment_channel=decision.comment_channel, external_source=decision.source,
                   external_id=item.x_id, fields={"x_account": account, "group": account.default_group})


def _open(o: Opening) -> Comment:
    return open_ticket_with_comment(requester=o.requester, subject=o.subject, body=o.body, channel=o.channel,
                                    comment_channel=o.comment_channel, external_source=o.external_source,
                                    external_id=o.external_id, **o.fields)


def _ticketed(item: IncomingItem, comment: Comment, state: str, reason: str = "") -> None:
    _set(item, state, reason)
    item.ticket_id = comment.ticket_id
    item.comment = comment


def _set(item: IncomingItem, state: str, reason: str) -> None:
    item.state = state
    item.state_reason = reason


def noise_verdict(item: IncomingItem) -> NoiseVerdict | None:
    """The noise rule (business rules) that leaves the item aside, if any."""
    return matching_rule(
        NoiseCandidate(
            text=item.text,
            author_id=item.author_x_id,
            author_username=item.author_handle,
            author_followers=item.author_followers,
            is_retweet=item.is_retweet,
            is_quote=item.is_quote,
            mentioned_usernames=tuple(item.mentioned_usernames or ()),
        ),
        account_id=item.account_id,
    )


