"""Keeping the dashboard's rollups: incrementally as tickets change, or rebuilt from scratch.

Every event is counted in the hour or UTC day it happened, whenever it arrives: a late event
(a reply imported after the fact, a solve of a month-old ticket) lands in its own cell by an
upsert, so the cells always equal what a rebuild from the tickets computes (`rebuild`; the
tests compare both). Counted once, on `ticket_changed`, after the change is committed:
- created: the hour a ticket was opened, by channel;
- intake lag: from a post or DM on X to its ticket, by "@account/intake mode" (histogram);
- replies and first reply: public comments by agents (the first one's wait, by channel);
- solves and resolution: each move to solved, credited to who solved it (time since opening);
- SLA achieved and breached: each ticket's fulfilled service-level targets, by metric, on
  the day each ended (`business_rules.sla.outcomes`, which says when a refresh changes them).
Cells carry the ticket's group at that moment, so agents see their groups' figures; each
has an all-groups twin (group -1) that admins read.

A merge (`tickets.merging`) moves comments between tickets: the cells of both tickets are
computed as a rebuild would before and after the move, and the difference is applied, in
the merge's transaction. Replies keep their day and agent and take the target's group and
channel; the target's first reply is its earliest agent reply, timed from its own opening
(one older than that, brought by the merge, counts as immediate).
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime

from django.db import connection, transaction

from tickets.models import X_CHANNELS, Comment, Ticket, TicketEvent

from .models import Rollup

log = logging.getLogger(__name__)

CREATED, FIRST_REPLY, RESOLUTION, INTAKE_LAG, REPLIES, SOLVES = (
    "created", "first_reply", "resolution", "intake_lag", "replies", "solves")
SLA_ACHIEVED, SLA_BREACHED = "sla_achieved", "sla_breached"
HOURLY = {CREATED}
# Upper bounds (seconds) of the histogram buckets; one more bucket holds everything longer.
BOUNDS = {
    FIRST_REPLY: (60, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 172800, 345600, 604800),
    RESOLUTION: (600, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 172800, 345600, 604800, 1209600, 2592000),
    INTAKE_LAG: (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600, 1800, 3600, 21600, 86400),
}
SOLVED = Ticket.Status.SOLVED
ALL_GROUPS = -1  # the cells summed over every group

Cell = tuple[str, datetime, int, str, int]


def period_start(metric: str, when: datetime) -> datetime:
    when = when.astimezone(UTC)
    if metric in HOURLY:
        return when.replace(minute=0, second=0, microsecond=0)
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def bucket_of(metric: str, seconds: float) -> int:
    return bisect.bisect_left(BOUNDS[metric], max(seconds, 0.0))


def cell(metric: str, when: datetime, group_id: int | None, dim: str, seconds: float | None = None) -> Cell:
    bucket = bucket_of(metric, seconds) if seconds is not None else -1
    return (metric, period_start(metric, when), group_id or 0, str(dim)[:100], bucket)


def add(cells: Iterable[Cell]) -> None:
    """Adds one to each cell (repeats add more), and to its all-groups twin (group -1, what
    admins read: one row per hour and channel instead of one per group): one upsert."""
    apply(Counter(cells))


def apply(deltas: Mapping[Cell, int]) -> None:
    """Adds each cell's delta (negative ones take away) to it and to its all-groups twin."""
    counts: Counter = Counter()
    for (metric, start, group, dim, bucket), n in deltas.items():
        counts[(metric, start, group, dim, bucket)] += n
        counts[(metric, start, ALL_GROUPS, dim, bucket)] += n
    counts = Counter({key: n for key, n in counts.items() if n})
    if not counts:
        return
    table = Rollup._meta.db_table
    rows = sorted(counts.items())  # a fixed order: concurrent upserts never deadlock
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params = [v for (metric, start, group, dim, bucket), n in rows for v in (metric, start, group, dim, bucket, n)]
    emptied = [key for key, n in rows if n < 0]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (metric, start, group_id, dim, bucket, count) VALUES {values} "
                       "ON CONFLICT (metric, start, group_id, dim, bucket) DO UPDATE SET "
                       f"count = {table}.count + excluded.count", params)
        if emptied:
            # Cells taken down to nothing go, as a rebuild would never write them.
            keys = ", ".join(["(%s, %s, %s, %s, %s)"] * len(emptied))
            cursor.execute(f"DELETE FROM {table} WHERE count = 0 AND (metric, start, group_id, dim, bucket) "
                           f"IN ({keys})", [v for key in emptied for v in key])


# --- incremental ---------------------------------------------------------------------------

def on_ticket_changed(sender, *, ticket, created, changes, comment=None, actor=None, events=(), **kwargs) -> None:
    """Counts the change; a failure is logged and never reaches the change's caller (the
    cells it missed come back with `manage.py rebuild_dashboard`)."""
    _safely(lambda: add(cells_for_change(ticket, created=created, changes=changes, comment=comment, events=events)),
            f"ticket #{ticket.pk}")


def on_sla_outcomes_changed(sender, *, changes, **kwargs) -> None:
    """A refresh of SLA clocks fulfilled targets (or, recomputed, changed how they ended)."""
    deltas: Counter = Counter()
    for change in changes:
        for outcome in change.before - change.after:
            deltas[_sla_cell(outcome, change.group_id)] -= 1
        for outcome in change.after - change.before:
            deltas[_sla_cell(outcome, change.group_id)] += 1
    _safely(lambda: apply(deltas), "SLA outcomes")


def on_tickets_merging(sender, *, source, target, **kwargs):
    """Before a merge moves comments: the two tickets' cells now; after it, the difference."""
    ids = [source.pk, target.pk]
    before = Counter(ticket_cells(ids))

    def after_move() -> None:
        after = Counter(ticket_cells(ids))
        _safely(lambda: apply({c: after[c] - before[c] for c in before.keys() | after.keys()}),
                f"the merge of #{source.pk} into #{target.pk}")

    return after_move


def _safely(count, what: str) -> None:
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint: a failure must not spoil the caller's transaction
                count()
        else:
            count()  # after commit, in autocommit: one statement, nothing to protect
    except Exception:  # noqa: BLE001 - the dashboard must never break the work it counts
        log.exception("could not count %s in the dashboard's rollups", what)


def _sla_cell(outcome, group_id: int | None) -> Cell:
    return cell(SLA_BREACHED if outcome.breached else SLA_ACHIEVED, outcome.ended_at, group_id, outcome.metric)


def on_tickets_opened(sender, *, opened, **kwargs) -> None:
    """Many tickets opened at once (intake at volume): counted as `on_ticket_changed` counts
    each, in one query for their intake lags and one upsert."""
    try:
        tickets = [o.ticket for o in opened]
        cells = [cell(CREATED, t.created_at, t.group_id, t.channel) for t in tickets]
        cells += _intake_lags([t for t in tickets if t.channel in X_CHANNELS])
        add(cells)
    except Exception:  # noqa: BLE001 - the dashboard must never break the work it counts
        log.exception("could not count %d new tickets in the dashboard's rollups", len(opened))


def on_messages_added(sender, *, added, **kwargs) -> None:
    """Requesters' messages added at once (intake at volume): counted as `on_ticket_changed`
    counts each, in one upsert (a requester's message that moved no status counts in no cell, so
    usually no query at all)."""
    try:
        add([c for a in added for c in cells_for_change(a.ticket, created=False, changes={}, comment=a.comment)])
    except Exception:  # noqa: BLE001 - the dashboard must never break the work it counts
        log.exception("could not count %d new messages in the dashboard's rollups", len(added))


def cells_for_change(ticket: Ticket, *, created: bool, changes: dict, comment: Comment | None,
                     events: Iterable[TicketEvent] = ()) -> list[Cell]:
    cells: list[Cell] = []
    if created:
        cells.append(cell(CREATED, ticket.created_at, ticket.group_id, ticket.channel))
        if ticket.channel in X_CHANNELS:
            cells += _intake_lags([ticket])
    if comment is not None and comment.is_public and comment.author_user_id:
        cells.append(cell(REPLIES, comment.created_at, ticket.group_id, comment.author_user_id))
        first = (Comment.objects.filter(ticket_id=ticket.pk, is_public=True, author_user__isnull=False)
                 .order_by("created_at", "pk").values_list("pk", flat=True).first())
        if first == comment.pk:
            wait = (comment.created_at - ticket.created_at).total_seconds()
            cells.append(cell(FIRST_REPLY, comment.created_at, ticket.group_id, ticket.channel, wait))
    status = changes.get("status")
    if status and status[1] == SOLVED:
        event = next((e for e in events if e.field == TicketEvent.Field.STATUS and e.new_value == SOLVED), None)
        if event is not None:
            cells += _solve(ticket, event.created_at, event.actor_user_id)
    return cells


def _intake_lags(tickets: list[Ticket]) -> list[Cell]:
    """The intake lag of each ticket, in one query: from its first X item's post to the ticket. Only the
    columns counted are read: an account loaded whole would decrypt its tokens per item."""
    from twitter_channel.models import IncomingItem

    if not tickets:
        return []
    items = (IncomingItem.objects.filter(ticket_id__in=[t.pk for t in tickets], x_created_at__isnull=False)
             .order_by("-pk").values_list("ticket_id", "x_created_at", "account__username", "account__intake_mode"))
    first_item = {ticket_id: rest for ticket_id, *rest in items}  # newest first, so the first one stays
    cells = []
    for ticket in tickets:
        if ticket.pk in first_item:
            x_created_at, username, mode = first_item[ticket.pk]
            lag = (ticket.created_at - x_created_at).total_seconds()
            cells.append(cell(INTAKE_LAG, ticket.created_at, ticket.group_id, f"@{username}/{mode}", lag))
    return cells


def _solve(ticket: Ticket, when: datetime, by_user_id: int | None) -> list[Cell]:
    return [cell(SOLVES, when, ticket.group_id, by_user_id or "-"),
            cell(RESOLUTION, when, ticket.group_id, ticket.channel, (when - ticket.created_at).total_seconds())]


# --- from scratch --------------------------------------------------------------------------

def rebuild() -> int:
    """Recomputes every cell from the tickets, comments, event log, X items and SLA clocks
    (after demo data loaded without events, or to check the incremental cells). Returns the
    cells kept."""
    with transaction.atomic():
        Rollup.objects.all().delete()
        batch: list[Cell] = []
        for one in ticket_cells():
            batch.append(one)
            if len(batch) >= 5000:
                add(batch)
                batch.clear()
        add(batch)
    return Rollup.objects.count()


def ticket_cells(ticket_ids: list[int] | None = None) -> Iterator[Cell]:
    """Every cell the tickets (all of them, or these) count in, as the incremental path
    counts them, one repeated cell per event; the group is each ticket's current one."""
    from business_rules.sla.models import TicketClocks
    from business_rules.sla.outcomes import outcomes
    from twitter_channel.models import IncomingItem

    def of(queryset, ticket_field: str = "ticket_id"):
        return queryset if ticket_ids is None else queryset.filter(**{f"{ticket_field}__in": ticket_ids})

    for created_at, group_id, channel in of(Ticket.objects.all(), "pk").values_list(
            "created_at", "group_id", "channel").iterator(chunk_size=5000):
        yield cell(CREATED, created_at, group_id, channel)
    seen_tickets: set[int] = set()
    for ticket_id, x_created_at, created_at, group_id, username, mode in (
            of(IncomingItem.objects.filter(ticket__isnull=False, x_created_at__isnull=False,
                                           ticket__channel__in=X_CHANNELS))
            .order_by("ticket_id", "pk")
            .values_list("ticket_id", "x_created_at", "ticket__created_at", "ticket__group_id",
                         "account__username", "account__intake_mode").iterator(chunk_size=5000)):
        if ticket_id in seen_tickets:
            continue
        seen_tickets.add(ticket_id)
        yield cell(INTAKE_LAG, created_at, group_id, f"@{username}/{mode}", (created_at - x_created_at).total_seconds())
    replied: set[int] = set()
    for ticket_id, author_id, created_at, group_id, channel, opened in (
            of(Comment.objects.filter(is_public=True, author_user__isnull=False))
            .order_by("ticket_id", "created_at", "pk")
            .values_list("ticket_id", "author_user_id", "created_at", "ticket__group_id", "ticket__channel",
                         "ticket__created_at").iterator(chunk_size=5000)):
        yield cell(REPLIES, created_at, group_id, author_id)
        if ticket_id not in replied:
            replied.add(ticket_id)
            yield cell(FIRST_REPLY, created_at, group_id, channel, (created_at - opened).total_seconds())
    for when, by, group_id, channel, opened in (
            of(TicketEvent.objects.filter(field=TicketEvent.Field.STATUS, new_value=SOLVED))
            .values_list("created_at", "actor_user_id", "ticket__group_id", "ticket__channel",
                         "ticket__created_at").iterator(chunk_size=5000)):
        yield cell(SOLVES, when, group_id, by or "-")
        yield cell(RESOLUTION, when, group_id, channel, (when - opened).total_seconds())
    for clocks, group_id in of(TicketClocks.objects.all()).values_list("clocks", "ticket__group_id") \
            .iterator(chunk_size=5000):
        for outcome in outcomes(clocks):
            yield _sla_cell(outcome, group_id)
