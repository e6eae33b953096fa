"""Admins turning incoming items into tickets by hand, one or many at a time.

By hand overrides what the intake decided: an item a noise rule ignored, a retweet, a
mention of an account that does not capture mentions all become tickets when an admin says
so. What stays is the threading: a reply in a thread that already has a ticket is added
to that ticket (conversion's `thread_ticket`), a DM joins its conversation's ticket, and an
item already on a ticket is reported, never doubled.

Conversion (`conversion.py`) has no entry point that skips its capture and noise checks,
so this module opens the ticket itself from conversion's public pieces (`thread_ticket`,
`dm_conversation_ticket`, `requester_for`, `subject_for`, `body_for`) and the tickets app's
`open_ticket_with_comment` / `add_comment`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.models import Channel, Comment, Ticket, User
from twitter_channel.intake import conversion
from twitter_channel.intake.incoming import CONVERTIBLE_KINDS
from twitter_channel.intake.models import BulkConversion
from twitter_channel.models import IncomingItem

log = logging.getLogger(__name__)

Kind = IncomingItem.Kind
State = IncomingItem.State

# Up to this many items are converted inside the request; more go to a Celery task whose
# progress the page polls.
INLINE_LIMIT = 20


class Outcome:
    CREATED = "created"  # a new ticket was opened for the item
    ADDED = "added"  # the item joined an existing ticket (its thread's or conversation's)
    ALREADY = "already_on_ticket"  # the item was on a ticket before
    FAILED = "failed"  # the item cannot become a ticket (says why)


@dataclass(frozen=True)
class Converted:
    outcome: str
    ticket_id: int | None = None
    detail: str = ""


def convert_by_hand(item_id: int) -> Converted:
    """Turn one item into a ticket (or a comment on its thread's ticket), whatever the
    intake decided about it. Safe to call twice: the second call reports it on its ticket."""
    with transaction.atomic():
        item = (
            IncomingItem.objects.select_for_update(of=("self",))
            .select_related("account", "account__default_group")
            .filter(pk=item_id)
            .first()
        )
        if item is None:
            return Converted(Outcome.FAILED, detail="No such item")
        if item.ticket_id is not None and item.state in (State.TICKETED, State.OWN):
            return Converted(Outcome.ALREADY, item.ticket_id, "Already on a ticket")
        refusal = _refusal(item)
        if refusal:
            return Converted(Outcome.FAILED, detail=refusal)
        try:
            # A savepoint: a failure leaves the item exactly as it was.
            with transaction.atomic():
                result = _convert(item)
        except Exception as exc:  # noqa: BLE001 — one bad item must not stop a bulk run
            log.warning("Converting X item %s by hand failed: %s", item.pk, exc)
            return Converted(Outcome.FAILED, detail=f"{type(exc).__name__}: {exc}"[:500])
        item.attempts += 1
        item.converted_at = timezone.now()
        item.save()
        return result


def _refusal(item: IncomingItem) -> str:
    if item.kind not in CONVERTIBLE_KINDS:
        return "The brand's own posts and messages do not become tickets"
    if item.is_group:
        return "Group DMs never become tickets: there is no one requester to answer"
    if item.kind == Kind.DM and isinstance(item.raw, dict) and item.raw.get("event_type", "MessageCreate") != "MessageCreate":
        return "This event is not a message (someone joined or left a conversation)"
    return ""


def _convert(item: IncomingItem) -> Converted:
    if item.x_id.startswith("malformed:") or not item.author_x_id:
        conversion.reparse(item)  # raises when the raw JSON still cannot be read
    source = Comment.Source.DM if item.kind == Kind.DM else Comment.Source.TWEET
    existing = Comment.objects.filter(external_source=source, external_id=item.x_id).first()
    if existing is not None:
        # Fetched through another stream or account and already on a ticket.
        _record(item, existing)
        return Converted(Outcome.ALREADY, existing.ticket_id, "Already on a ticket")
    requester = conversion.requester_for(item)
    if item.kind == Kind.DM:
        ticket, channel = conversion.dm_conversation_ticket(item), Channel.X_DM
    else:
        ticket, channel = conversion.thread_ticket(item), Channel.X
    if ticket is None:
        # The existing comment was looked up above, inside the caller's transaction.
        comment = open_ticket_with_comment(
            requester=requester,
            subject=conversion.subject_for(item),
            body=conversion.body_for(item),
            channel=Channel.X_LIKE if item.kind == Kind.LIKE else channel,
            comment_channel=channel,
            external_source=source,
            external_id=item.x_id,
            x_account=item.account,
            group=item.account.default_group,
        )
        _record(item, comment)
        return Converted(Outcome.CREATED, comment.ticket_id)
    comment = add_comment(
        ticket,
        body=conversion.body_for(item),
        author_requester=requester,
        channel=channel,
        external_source=source,
        external_id=item.x_id,
    )
    _record(item, comment)
    outcome = Outcome.ADDED
    if comment.ticket_id != ticket.pk:
        outcome = Outcome.CREATED  # add_comment carried it on to a follow-up of a closed ticket
    return Converted(outcome, comment.ticket_id)


def _record(item: IncomingItem, comment: Comment) -> None:
    item.state = State.TICKETED
    item.state_reason = "Converted by hand"
    item.ticket_id = comment.ticket_id
    item.comment = comment


# --- ignoring -------------------------------------------------------------------------------


def ignore(item_id: int, user: User) -> bool:
    """Leave an item aside by hand. Items on a ticket stay there (False)."""
    updated = IncomingItem.objects.filter(
        pk=item_id, state__in=(State.NEW, State.NOT_CAPTURED, State.RETWEET, State.QUARANTINED)
    ).update(state=State.IGNORED, state_reason=f"Ignored by {user}"[:2000], ignored_by_rule_id=None, rule="")
    return bool(updated)


def unignore(item_id: int) -> str | None:
    """Give an ignored item back to the intake, which converts it by its usual rules (a noise
    rule that still matches ignores it again, naming the rule; "Convert" overrides that).
    Returns the item's new state, or None when it was not ignored."""
    updated = IncomingItem.objects.filter(pk=item_id, state=State.IGNORED).update(
        state=State.NEW, state_reason="", ignored_by_rule_id=None, rule=""
    )
    if not updated:
        return None
    outcome = conversion.convert_item_by_id(item_id)
    return outcome if outcome not in (None, "deferred") else State.NEW


# --- many at once ---------------------------------------------------------------------------


def start_bulk_conversion(item_ids: list[int], user: User | None) -> BulkConversion:
    """Record the request; small ones are converted right here, larger ones by a task."""
    ids = list(dict.fromkeys(int(i) for i in item_ids))  # de-duplicated, order kept
    # Oldest first: a reply then finds the ticket its parent was just converted into.
    ids.sort()
    bulk = BulkConversion.objects.create(created_by=user, item_ids=ids, total=len(ids))
    if len(ids) <= INLINE_LIMIT:
        run_bulk_conversion(bulk.pk)
        bulk.refresh_from_db()
    # else: still running; the caller queues `intake.tasks.bulk_convert_items` for it.
    return bulk


def run_bulk_conversion(bulk_id: int) -> BulkConversion:
    """Convert the request's items one by one, saving progress every few items. A re-run
    (a task delivered twice) carries on where the last one stopped."""
    bulk = BulkConversion.objects.get(pk=bulk_id)
    every = max(1, getattr(settings, "X_BULK_PROGRESS_EVERY", 5))
    for index in range(bulk.done, bulk.total):
        result = convert_by_hand(bulk.item_ids[index])
        bulk.done = index + 1
        _count(bulk, bulk.item_ids[index], result)
        if bulk.done % every == 0:
            bulk.save(update_fields=["done", "created", "added", "already_on_ticket", "failed", "results"])
    bulk.status = BulkConversion.Status.FINISHED
    bulk.finished_at = timezone.now()
    bulk.save()
    return bulk


def _count(bulk: BulkConversion, item_id: int, result: Converted) -> None:
    field = {
        Outcome.CREATED: "created",
        Outcome.ADDED: "added",
        Outcome.ALREADY: "already_on_ticket",
        Outcome.FAILED: "failed",
    }[result.outcome]
    setattr(bulk, field, getattr(bulk, field) + 1)
    bulk.results.append(
        {"item": item_id, "ticket": result.ticket_id, "outcome": result.outcome, "detail": result.detail}
    )


def tickets_of(bulk: BulkConversion) -> dict[int, Ticket]:
    ids = {r["ticket"] for r in bulk.results if r["ticket"]}
    return Ticket.objects.only("pk", "subject", "status").in_bulk(ids)
