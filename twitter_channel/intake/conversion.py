"""Turning stored X items into tickets and comments.

Runs after polling, never inside it: a poll only stores. Each item is converted in its own
transaction under a row lock, and the item's new state is saved in that same transaction,
so an item is converted once even when two converters (or the sweeper) run at the same time
and a killed worker leaves nothing half done. The comment's external id (tweet or DM event
id) is unique as well, which also recognises the echo of a reply the helpdesk posted itself.

Only `tickets.comments.open_ticket_with_comment` and `add_comment` touch tickets.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from tickets.comments import Opening, TicketFull, add_comment, open_ticket_with_comment, open_tickets_with_comments
from tickets.models import Channel, Comment, Identity, Requester, Ticket
from twitter_channel.intake.edits import apply_post_edit, has_earlier_versions
from twitter_channel.intake.redaction import deletions_among, redact_if_deleted
from twitter_channel.models import IncomingItem, XAccount

log = logging.getLogger(__name__)

Kind = IncomingItem.Kind
State = IncomingItem.State

SUBJECT_LENGTH = 80
SAVED_FIELDS = ["state", "state_reason", "ticket", "comment", "ignored_by_rule_id", "rule", "attempts", "converted_at"]
# What was looked up once for the batch being converted (per thread): `requesters`, the
# requesters ensure_requesters() prepared; `comments`, see stored_comments().
_prepared = threading.local()
LEADING_MENTIONS = re.compile(r"^(?:\s*@\w+)+\s*")


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
        _prepared.requesters = ensure_requesters(pending.order_by("id")[:batch_size])
        try:
            with transaction.atomic():
                batch = list(
                    pending.select_for_update(skip_locked=True, of=("self",))
                    .select_related("account", "account__default_group")
                    .order_by("id")[:batch_size]
                )
                if not batch:
                    break
                _prepared.comments = stored_comments(batch)
                _prepared.deletions = deletions_among(batch)
                rest = open_simple_items(batch)
                stats.converted += len(batch) - len(rest)
                for item in rest:
                    # Saved one by one: later items of the batch look up the tickets of earlier ones.
                    outcome = _convert_locked(item)
                    if outcome == "deferred":
                        deferred.add(item.pk)
                        stats.deferred += 1
                    elif outcome == State.QUARANTINED:
                        stats.quarantined += 1
                    else:
                        stats.converted += 1
        finally:
            _prepared.requesters = {}
            _prepared.comments = {}
            _prepared.deletions = None
    return stats


def open_simple_items(batch: list[IncomingItem]) -> list[IncomingItem]:
    """The set-based part of converting a locked batch; returns the items left to convert one
    by one (`_convert_locked`), in order.

    Most of a burst needs nothing but what the batch has already looked up (its comments,
    deletions and requesters): a mention that starts a thread, a like, the first DM of a
    conversation without a ticket each open a ticket; a retweet, an item of a stream the
    account does not capture or one a noise rule ignores is left aside. Those are decided in
    memory, exactly as `convert_item` decides them, their tickets opened with two multi-row
    INSERTs (`open_tickets_with_comments`) and the items saved with one UPDATE, inside the
    batch's transaction. Anything that may join an existing ticket (a reply, a later DM of a
    conversation, an edit), a deleted post, the brand's own posts, and every later item of a
    conversation the batch has already met go one by one, after these, as before."""
    deletions = getattr(_prepared, "deletions", None) or {}
    comments = getattr(_prepared, "comments", {})
    requesters = getattr(_prepared, "requesters", {})
    busy = _dm_conversations_taken(batch)
    seen_conversations: set[tuple[int, str]] = set()
    opening_ids: set[tuple[str, str]] = set()
    decided: list[IncomingItem] = []
    openings: list[tuple[IncomingItem, Opening]] = []
    rest: list[IncomingItem] = []
    for item in batch:
        conversation = (item.account_id, item.conversation_key or item.x_id)
        first_of_conversation = conversation not in seen_conversations
        seen_conversations.add(conversation)
        try:
            outcome = _simple_outcome(item, deletions, comments, requesters, busy, opening_ids) \
                if first_of_conversation else None
        except Exception:  # noqa: BLE001 — converted one by one, it fails again there and quarantines alone
            log.debug("X item %s left to one-by-one conversion", item.pk, exc_info=True)
            outcome = None
        if outcome is None:
            rest.append(item)
        elif isinstance(outcome, Opening):
            openings.append((item, outcome))
            opening_ids.add((outcome.external_source, item.x_id))
        else:
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
                forget_stored_comment(item)
            rest = sorted(rest + [item for item, _ in openings], key=lambda i: i.pk)
        else:
            for (item, _), comment in zip(openings, opened, strict=True):
                _set(item, State.TICKETED, "")
                item.ticket_id = comment.ticket_id
                item.comment = comment
                comments[comment.external_source, comment.external_id] = comment
                decided.append(item)
    now = timezone.now()
    for item in decided:
        item.attempts += 1
        item.converted_at = now
    # Saved before the one-by-one items: they look up the tickets these items opened.
    save_items(decided)
    return rest


def save_items(items: list[IncomingItem]) -> None:
    """SAVED_FIELDS of many items in one UPDATE ... FROM (VALUES ...). Django's bulk_update
    writes a CASE with a branch per row for every column, which PostgreSQL evaluates row by
    row: quadratic, seconds for a batch of 200."""
    if not items:
        return
    if connection.vendor != "postgresql":  # SQLite (make run without DATABASE_URL): small batches anyway
        IncomingItem.objects.bulk_update(items, SAVED_FIELDS)
        return
    table = IncomingItem._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(items))
    params = [value for item in items for value in (
        item.pk, item.state, item.state_reason, item.ticket_id, item.comment_id, item.ignored_by_rule_id,
        item.rule, item.attempts, item.converted_at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS item SET state = v.state, state_reason = v.state_reason, "
            "ticket_id = v.ticket_id::bigint, comment_id = v.comment_id::bigint, "
            "ignored_by_rule_id = v.rule_id::integer, rule = v.rule, attempts = v.attempts::smallint, "
            "converted_at = v.converted_at::timestamptz "
            f"FROM (VALUES {rows}) AS v(id, state, state_reason, ticket_id, comment_id, rule_id, rule, attempts, "
            "converted_at) WHERE item.id = v.id::bigint",
            params,
        )


def _simple_outcome(item, deletions, comments, requesters, busy, opening_ids) -> Opening | str | None:
    """What `convert_item` would decide for `item` when that needs no further lookup: an
    `Opening` (a new ticket), a state set on the item (left aside), or None (convert it one
    by one)."""
    account: XAccount = item.account
    is_dm = item.kind in (Kind.DM, Kind.OWN_DM)
    source = Comment.Source.DM if is_dm else Comment.Source.TWEET
    if (item.x_id, is_dm) in deletions or item.kind in (Kind.OWN_TWEET, Kind.OWN_DM):
        return None
    if item.kind == Kind.LIKE and item.author_x_id == account.user_id:
        _set(item, State.OWN, "The brand liked its own post")
        return item.state
    if item.kind == Kind.DM and item.is_group:
        _set(item, State.GROUP_DM, "Group conversation; group DMs never become tickets")
        return item.state
    if comments.get((source, item.x_id), 0) is not None or (source, item.x_id) in opening_ids:
        return None  # already on a ticket (or not looked up): linked one by one
    if item.kind == Kind.MENTION:
        if has_earlier_versions(item):
            return None
        if item.is_retweet and account.ignore_retweets:
            _set(item, State.RETWEET, "Retweet; the account ignores retweets")
            return item.state
        if not account.capture_mentions:
            _set(item, State.NOT_CAPTURED, "Mentions are not captured for this account")
            return item.state
    elif item.kind == Kind.LIKE and not account.capture_likes:
        _set(item, State.NOT_CAPTURED, "Likes are not captured for this account")
        return item.state
    elif item.kind == Kind.DM and not account.capture_dms:
        _set(item, State.NOT_CAPTURED, "Direct messages are not captured for this account")
        return item.state
    if _ignored_by_noise_rule(item):
        return item.state
    if item.author_x_id not in requesters:
        return None
    requester = requester_for(item)  # the prepared one, no query
    if item.kind == Kind.MENTION:
        if item.in_reply_to_id or item.conversation_key not in ("", item.x_id):
            return None  # a reply: its thread's ticket is looked up one by one
        channel, comment_channel = Channel.X, Channel.X
    elif item.kind == Kind.LIKE:
        channel, comment_channel = Channel.X_LIKE, Channel.X
    else:
        if _dm_conversation_taken(item, busy):
            return None
        channel, comment_channel = Channel.X_DM, Channel.X_DM
    return Opening(requester=requester, subject=subject_for(item), body=body_for(item), channel=channel,
                   comment_channel=comment_channel, external_source=source, external_id=item.x_id,
                   fields={"x_account": account, "group": account.default_group})


def _dm_conversations_taken(batch: list[IncomingItem]) -> dict:
    """For the batch's DMs, in one query: the conversations that already have a ticket
    (`"ticketed"` -> keys) and the oldest item of each conversation still new outside the
    batch (`"pending"` -> key -> pk: another converter holds it, and a DM must not overtake it)."""
    keys = {(i.account_id, i.conversation_key) for i in batch if i.kind == Kind.DM and i.conversation_key}
    taken: dict = {"ticketed": set(), "pending": {}}
    if not keys:
        return taken
    rows = (
        IncomingItem.objects.filter(account_id__in={a for a, _ in keys}, conversation_key__in={k for _, k in keys})
        .exclude(pk__in=[i.pk for i in batch])
        .filter(Q(kind__in=(Kind.DM, Kind.OWN_DM), ticket__isnull=False) | Q(state=State.NEW))
        .values("account_id", "conversation_key", "state")
        .annotate(first=Min("pk"))
    )
    for row in rows:
        key = (row["account_id"], row["conversation_key"])
        if row["state"] == State.NEW:
            taken["pending"][key] = min(row["first"], taken["pending"].get(key, row["first"]))
        else:
            taken["ticketed"].add(key)
    return taken


def _dm_conversation_taken(item: IncomingItem, taken: dict) -> bool:
    key = (item.account_id, item.conversation_key)
    older = taken["pending"].get(key)
    return key in taken["ticketed"] or (older is not None and older < item.pk)


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
        return _convert_locked(item)


def _convert_locked(item: IncomingItem) -> str:
    """Convert an item the caller holds locked, inside the caller's transaction."""
    if _older_item_pending(item):
        # A reply must not overtake its parent: converted in parallel, it would find no
        # ticket to join and open its own. It waits for the next round.
        return "deferred"
    try:
        try:
            with transaction.atomic():
                convert_item(item)
        except IntegrityError:
            # Most likely a parallel converter stored this very tweet or DM (the same post
            # fetched as a mention and as a like) after the batch looked its id up: look
            # again, it now links to that comment. Anything else fails again and quarantines.
            forget_stored_comment(item)
            with transaction.atomic():
                convert_item(item)
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
        getattr(_prepared, "comments", {})[item.comment.external_source, item.comment.external_id] = item.comment
    return item.state


def _older_item_pending(item: IncomingItem) -> bool:
    # Only something that joins an existing thread or conversation can overtake its parent.
    if not item.conversation_key or (item.conversation_key == item.x_id and not item.in_reply_to_id):
        return False
    return (
        IncomingItem.objects.filter(
            account_id=item.account_id, conversation_key=item.conversation_key, state=State.NEW, pk__lt=item.pk
        )
        .exists()
    )


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
                 "is_retweet", "is_quote", "mentioned_usernames", "is_group"):
        setattr(item, name, getattr(fresh, name))


# --- the rules -------------------------------------------------------------------------------


def convert_item(item: IncomingItem) -> None:
    """Decide what `item` becomes and record it on the item (saved by the caller)."""
    if redact_if_deleted(item, getattr(_prepared, "deletions", None)):
        return
    {
        Kind.MENTION: _convert_mention,
        Kind.LIKE: _convert_like,
        Kind.DM: _convert_dm,
        Kind.OWN_TWEET: _convert_own_tweet,
        Kind.OWN_DM: _convert_own_dm,
    }[item.kind](item)


def _convert_mention(item: IncomingItem) -> None:
    account = item.account
    if _link_existing(item, Comment.Source.TWEET):
        return
    if apply_post_edit(item, body_for(item)):
        return
    if item.is_retweet and account.ignore_retweets:
        _set(item, State.RETWEET, "Retweet; the account ignores retweets")
        return
    if not account.capture_mentions:
        _set(item, State.NOT_CAPTURED, "Mentions are not captured for this account")
        return
    if _ignored_by_noise_rule(item):
        return
    ticket = thread_ticket(item)
    requester = requester_for(item)
    if ticket is None:
        _open(item, requester, Channel.X, Comment.Source.TWEET, Channel.X)
    else:
        _comment(item, ticket, requester, Comment.Source.TWEET, Channel.X)


def _convert_like(item: IncomingItem) -> None:
    account = item.account
    if item.author_x_id == account.user_id:
        _set(item, State.OWN, "The brand liked its own post")
        return
    if _link_existing(item, Comment.Source.TWEET):
        return
    if not account.capture_likes:
        _set(item, State.NOT_CAPTURED, "Likes are not captured for this account")
        return
    if _ignored_by_noise_rule(item):
        return
    requester = requester_for(item)
    _open(item, requester, Channel.X_LIKE, Comment.Source.TWEET, Channel.X)


def _convert_dm(item: IncomingItem) -> None:
    account = item.account
    if item.is_group:
        _set(item, State.GROUP_DM, "Group conversation; group DMs never become tickets")
        return
    if _link_existing(item, Comment.Source.DM):
        return
    if not account.capture_dms:
        _set(item, State.NOT_CAPTURED, "Direct messages are not captured for this account")
        return
    if _ignored_by_noise_rule(item):
        return
    requester = requester_for(item)
    ticket = dm_conversation_ticket(item)
    if ticket is None:
        _open(item, requester, Channel.X_DM, Comment.Source.DM, Channel.X_DM)
    else:
        _comment(item, ticket, requester, Comment.Source.DM, Channel.X_DM)


def _convert_own_tweet(item: IncomingItem) -> None:
    # The echo of a reply the helpdesk posted: its comment already carries this tweet id.
    if _link_existing(item, Comment.Source.TWEET, state=State.OWN):
        return
    ticket = thread_ticket(item)
    _own_comment(item, ticket, Comment.Source.TWEET, Channel.X, "The brand's post is not part of any ticket")


def _convert_own_dm(item: IncomingItem) -> None:
    if item.is_group:
        _set(item, State.GROUP_DM, "Group conversation; group DMs never become tickets")
        return
    if _link_existing(item, Comment.Source.DM, state=State.OWN):
        return
    ticket = dm_conversation_ticket(item)
    _own_comment(item, ticket, Comment.Source.DM, Channel.X_DM, "The brand's DM is not part of any ticket")


# --- lookups -------------------------------------------------------------------------------


def thread_ticket(item: IncomingItem) -> Ticket | None:
    """The ticket a reply belongs to: the one holding the post it answers, else (the parent
    deleted or never seen) the one holding the thread's root post."""
    for tweet_id in (item.in_reply_to_id, item.conversation_key):
        if tweet_id and tweet_id != item.x_id:
            comment = (
                Comment.objects.select_related("ticket")
                .filter(external_source=Comment.Source.TWEET, external_id=tweet_id,
                        ticket__requester__erased_at=None)
                .first()
            )
            if comment is not None:
                return comment.ticket
    return None


def dm_conversation_ticket(item: IncomingItem) -> Ticket | None:
    """The latest ticket of this DM conversation (add_comment carries a closed one on
    to a follow-up): the ticket holding its latest message, so a conversation whose ticket
    was merged into another continues there (a merge moves comments, not items)."""
    linked = (
        IncomingItem.objects.filter(
            account_id=item.account_id,
            conversation_key=item.conversation_key,
            kind__in=(Kind.DM, Kind.OWN_DM),
            ticket__isnull=False,
            # Erasure blanks the conversation on the items it knows of; should any other
            # still carry it, it must not lead back to an erased requester's ticket either.
            ticket__requester__erased_at=None,
        )
        .exclude(pk=item.pk)
        .select_related("ticket", "comment__ticket")
        .order_by("-pk")
        .first()
    )
    if linked is None:
        return None
    return linked.comment.ticket if linked.comment is not None else linked.ticket


def stored_comments(items) -> dict[tuple[str, str], Comment | None]:
    """The comments already holding the batch's tweet and DM ids, in one query, keyed by
    (source, id); None for an id looked up and not found. Spares each item its own lookup."""
    ids = {item.x_id for item in items}
    found: dict[tuple[str, str], Comment | None] = {
        (source, x_id): None for x_id in ids for source in (Comment.Source.TWEET, Comment.Source.DM)
    }
    for comment in Comment.objects.filter(
        external_source__in=(Comment.Source.TWEET, Comment.Source.DM), external_id__in=ids
    ):
        found[comment.external_source, comment.external_id] = comment
    return found


def forget_stored_comment(item: IncomingItem) -> None:
    for source in (Comment.Source.TWEET, Comment.Source.DM):
        getattr(_prepared, "comments", {}).pop((source, item.x_id), None)


def ensure_requesters(items) -> dict[str, Requester]:
    """The requesters of a batch's authors, created or refreshed before the batch is
    converted, set-based: one query finds the authors already known, the unknown ones get
    their requesters and identities in two multi-row INSERTs, and changed profiles are saved
    in one UPDATE, all in one short transaction of its own. Rows are written in author-id
    order: parallel converters meeting the same new people wait for each other instead of
    deadlocking, and the unique identity decides who created whom (ON CONFLICT DO NOTHING;
    a requester made in vain is deleted again)."""
    newest = {
        i.author_x_id: i for i in items if i.author_x_id and i.kind in (Kind.MENTION, Kind.LIKE, Kind.DM)
    }
    if not newest:
        return {}
    try:
        with transaction.atomic():
            return _upsert_requesters(newest)
    except Exception:  # noqa: BLE001 — each item's own conversion meets the problem again and quarantines
        log.debug("Could not prepare the requesters of %d authors", len(newest), exc_info=True)
        return {}


def _upsert_requesters(newest: dict[str, IncomingItem]) -> dict[str, Requester]:
    def identities(author_ids):
        return {
            identity.value: identity
            for identity in Identity.objects.select_related("requester").filter(kind=Identity.Kind.X,
                                                                                value__in=author_ids)
        }

    known = identities(list(newest))
    missing = sorted(author_id for author_id in newest if author_id not in known)
    if missing:
        made = Requester.objects.bulk_create(
            [Requester(name=_author_label(newest[author_id], with_at=False)) for author_id in missing]
        )
        Identity.objects.bulk_create(
            [Identity(requester=requester, kind=Identity.Kind.X, value=author_id, **_profile(newest[author_id]))
             for author_id, requester in zip(missing, made, strict=True)],
            ignore_conflicts=True,
        )
        created = identities(missing)
        known.update(created)
        # Another converter created some of these people first: theirs stay, ours go.
        in_vain = [r.pk for author_id, r in zip(missing, made, strict=True)
                   if author_id not in created or created[author_id].requester_id != r.pk]
        if in_vain:
            Requester.objects.filter(pk__in=in_vain, tickets__isnull=True).delete()
    changed = []
    for author_id in sorted(known):
        identity = known[author_id]
        changes = _profile_changes(identity, newest[author_id])
        if changes:
            for name, value in changes.items():
                setattr(identity, name, value)
            identity.updated_at = timezone.now()
            changed.append(identity)
    if changed:
        # Locked in id order first: one UPDATE of many rows locks them in whatever order it
        # meets them, and two converters refreshing the same people would deadlock.
        list(Identity.objects.select_for_update().filter(pk__in=[i.pk for i in changed]).order_by("pk")
             .values_list("pk", flat=True))
        Identity.objects.bulk_update(changed, [*PROFILE_FIELDS, "updated_at"])
    return {author_id: identity.requester for author_id, identity in known.items()}


PROFILE_FIELDS = ("handle", "display_name", "avatar_url", "followers", "verified")


def requester_for(item: IncomingItem) -> Requester:
    """The requester behind the item's X author, created on first sight; the identity's
    handle, name, avatar, followers and verified mark are kept up to date."""
    if not item.author_x_id:
        raise ValueError("item has no author id")
    prepared = getattr(_prepared, "requesters", {}).get(item.author_x_id)
    if prepared is not None:
        return prepared
    identity = (
        Identity.objects.select_related("requester").filter(kind=Identity.Kind.X, value=item.author_x_id).first()
    )
    if identity is None:
        try:
            with transaction.atomic():
                requester = Requester.objects.create(name=_author_label(item, with_at=False))
                identity = Identity.objects.create(
                    requester=requester, kind=Identity.Kind.X, value=item.author_x_id, **_profile(item)
                )
            return requester
        except IntegrityError:
            # Another converter created this identity a moment ago.
            identity = Identity.objects.select_related("requester").get(kind=Identity.Kind.X, value=item.author_x_id)
    changed = _profile_changes(identity, item)
    if changed:
        Identity.objects.filter(pk=identity.pk).update(updated_at=timezone.now(), **changed)
    return identity.requester


def _profile_changes(identity: Identity, item: IncomingItem) -> dict:
    return {k: v for k, v in _profile(item).items() if v not in ("", None) and getattr(identity, k) != v}


def _profile(item: IncomingItem) -> dict:
    profile = {
        "handle": item.author_handle,
        "display_name": item.author_name,
        "avatar_url": item.author_avatar_url,
        "followers": item.author_followers,
    }
    if item.author_handle:  # verified is only known when the profile came along
        profile["verified"] = item.author_verified
    return profile


# --- writing ---------------------------------------------------------------------------------


def _link_existing(item: IncomingItem, source: str, *, state: str = State.TICKETED) -> bool:
    """An item whose tweet or DM is already a comment (posted by the helpdesk, or fetched
    through another stream or account) points at that comment instead of doubling it."""
    known = getattr(_prepared, "comments", {})
    if (source, item.x_id) in known:
        comment = known[source, item.x_id]
    else:
        comment = Comment.objects.filter(external_source=source, external_id=item.x_id).first()
    if comment is None:
        return False
    item.state = state
    item.state_reason = "Already on a ticket"
    item.ticket_id = comment.ticket_id
    item.comment = comment
    return True


def _ignored_by_noise_rule(item: IncomingItem) -> bool:
    from business_rules.noise import NoiseCandidate, matching_rule

    verdict = matching_rule(
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
    if verdict is None:
        return False
    _set(item, State.IGNORED, verdict.reason)
    item.ignored_by_rule_id = verdict.rule_id
    item.rule = verdict.rule_name[:200]
    return True


def _open(item: IncomingItem, requester: Requester, channel: str, source: str, comment_channel: str) -> None:
    """A new ticket with the item as its first comment. _link_existing() has just found no
    comment with this id; should one appear meanwhile, IntegrityError (see _convert_locked)."""
    account: XAccount = item.account
    comment = open_ticket_with_comment(
        requester=requester,
        subject=subject_for(item),
        body=body_for(item),
        channel=channel,
        comment_channel=comment_channel,
        external_source=source,
        external_id=item.x_id,
        x_account=account,
        group=account.default_group,
    )
    _set(item, State.TICKETED, "")
    item.ticket_id = comment.ticket_id
    item.comment = comment


def _comment(item: IncomingItem, ticket: Ticket, requester: Requester, source: str, channel: str) -> None:
    comment = add_comment(
        ticket,
        body=body_for(item),
        author_requester=requester,
        channel=channel,
        external_source=source,
        external_id=item.x_id,
        known_new=True,  # _link_existing() looked it up
    )
    item.state = State.TICKETED
    item.state_reason = ""
    # add_comment may have carried the message on to a follow-up of a closed ticket.
    item.ticket_id = comment.ticket_id
    item.comment = comment


def _own_comment(item: IncomingItem, ticket: Ticket | None, source: str, channel: str, alone: str) -> None:
    if ticket is None:
        _set(item, State.OWN, alone)
        return
    try:
        comment = add_comment(
            ticket, body=body_for(item), is_public=True, channel=channel, external_source=source,
            external_id=item.x_id, known_new=True,  # _link_existing() looked it up
        )
    except TicketFull:
        _set(item, State.OWN, f"Ticket #{ticket.pk} is full; the brand's message was not added")
        return
    _set(item, State.OWN, "")
    item.ticket_id = comment.ticket_id
    item.comment = comment


def _set(item: IncomingItem, state: str, reason: str) -> None:
    item.state = state
    item.state_reason = reason


# --- text --------------------------------------------------------------------------------------


def body_for(item: IncomingItem) -> str:
    """The text as a person reads it: X's HTML entities decoded and t.co links (media
    included) replaced by where they lead. Templates escape it when showing it."""
    text = html.unescape(item.text or "")
    for short, expanded in item.urls or ():
        if short and expanded:
            text = text.replace(short, expanded)
    return text.strip() or "(no text)"


def subject_for(item: IncomingItem) -> str:
    text = " ".join(LEADING_MENTIONS.sub("", body_for(item)).split())
    if text and text != "(no text)":
        return text if len(text) <= SUBJECT_LENGTH else text[: SUBJECT_LENGTH - 1].rstrip() + "…"
    label = _author_label(item)
    return {
        Kind.DM: f"Direct message from {label}",
        Kind.LIKE: f"Post by {label} liked",
    }.get(item.kind, f"Mention from {label}")


def _author_label(item: IncomingItem, *, with_at: bool = True) -> str:
    if item.author_handle:
        return f"@{item.author_handle}" if with_at else (item.author_name or item.author_handle)
    return item.author_name or f"X user {item.author_x_id}"
