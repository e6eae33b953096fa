"""Who gets told what: turns live events into the messages each open page should receive.

Runs synchronously (the ORM), once per batch of events for every socket of the process.
Every message is computed from the database under the socket's own user through the
functions the pages use: `visible_tickets` for access, the queue definitions, filters and
sort for which rows a queue page shows. A socket is never told anything about a ticket its
user could not open, except that a row it already shows has left its view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils import timezone

from tickets import thread
from tickets.access import visible_tickets
from tickets.filters import QueueFilterForm, apply_filters, apply_sort
from tickets.models import Comment, Ticket, User
from tickets.queue_page import Plain, page_ids
from tickets.queue_rows import rows_of, tickets_for_rows
from tickets.queues import DEFAULT_QUEUE, QUEUES, channel_queue

from .models import FollowedView, LiveEvent, Viewer

QUEUE_PAGE = "queue"
TICKET_PAGE = "ticket"


@dataclass(eq=False)
class Subscription:
    """What one socket's page shows, as the page told us when it (re)connected."""

    user: User
    channel_name: str
    page: str = ""  # QUEUE_PAGE, TICKET_PAGE or "" (any other page: notices and counters only)
    # A queue page: its path and query string, and the ids of the rows it shows now.
    path: str = ""
    query: QueryDict = field(default_factory=QueryDict)
    shown: list[int] = field(default_factory=list)
    # A ticket page: the ticket, and the newest comment it shows (None: an older page of comments).
    ticket_id: int | None = None
    last_comment: int | None = None
    followed: set[str] = field(default_factory=set)
    _params: dict | None = None

    def queue_params(self) -> dict:
        if self._params is None:
            self._params = QueueFilterForm(self.query).cleaned()
        return self._params


# --- queue pages --------------------------------------------------------------------------


def queue_tickets(sub: Subscription, batch: Batch):
    """The tickets of the queue page `sub.path` for `sub.user`, filtered and sorted as the
    page's view does; None when the path is not a queue."""
    try:
        match = resolve(sub.path)
    except Resolver404:
        return None
    user = sub.user
    if match.url_name in ("queue", "queue_view"):
        chosen = QUEUES.get(match.kwargs.get("slug", DEFAULT_QUEUE))
        if chosen is None:
            return None
        tickets = chosen.narrow(batch.visible(user), user)
    elif match.url_name == "channel_queue":
        tickets = channel_queue(batch.visible(user), match.kwargs["channel"])
    else:
        return None
    params = sub.queue_params()
    return apply_sort(apply_filters(tickets, params), params.get("sort"))


class Batch(Plain):
    """Results shared by the sockets of one batch of events. Fifty agents who see the same
    tickets run the same queries: each query's result is kept under its own SQL, so agents
    whose access or queue differ (a restricted agent, "Mine") never share an answer, and no
    access rule is restated here to decide who may share."""

    def __init__(self) -> None:
        self.results: dict = {}
        self.rows: dict[int, str] = {}
        self._visible: dict[int, Any] = {}

    def visible(self, user: User):
        """`visible_tickets(user)`, built once per user and batch: a restricted agent's groups
        are read from the database, and each socket needs them for its events, its queue and
        its counts."""
        if user.pk not in self._visible:
            self._visible[user.pk] = visible_tickets(user)
        return self._visible[user.pk]

    def ids(self, queryset) -> list[int]:
        # Compiled once: the SQL is both the key and what runs on a miss (compiling costs
        # about as much as running these small indexed queries).
        try:
            sql, params = queryset.values_list("pk", flat=True).query.sql_with_params()
        except EmptyResultSet:
            return []
        key = ("ids", sql, tuple(params))
        if key not in self.results:
            with connections[queryset.db].cursor() as cursor:
                cursor.execute(sql, params)
                self.results[key] = [row[0] for row in cursor.fetchall()]
        return self.results[key]

    def values(self, queryset) -> list[tuple]:
        # Compiled once, like ids(): the SQL is the key and what runs on a miss.
        try:
            sql, params = queryset.query.sql_with_params()
        except EmptyResultSet:
            return []
        key = ("values", sql, tuple(params))
        if key not in self.results:
            with connections[queryset.db].cursor() as cursor:
                cursor.execute(sql, params)
                self.results[key] = [tuple(row) for row in cursor.fetchall()]
        return self.results[key]

    def page_ids(self, tickets, sub: Subscription) -> list[int]:
        """The ids of the page `sub` shows (`tickets.queue_page.page_ids`, through this
        batch's cache). Sockets whose queue compiles to the same SQL and that ask for the same
        page share the whole page: each compiles its queue once, not once per query the page
        runs (its ids, its count, a search), which cost more than the queries themselves."""
        try:
            key = ("page", str(tickets.query), sub.query.urlencode())
        except EmptyResultSet:
            return []
        if key not in self.results:
            self.results[key] = page_ids(tickets, sub.queue_params(), sub.query, settings.TICKETS_PER_PAGE,
                                         run=self).ids
        return self.results[key]

    def found(self, tickets, text: str, *, limit: int, ranked: bool) -> list[int]:
        try:
            key = ("found", str(tickets.query), text, limit, ranked)
        except EmptyResultSet:
            return []
        if key not in self.results:
            self.results[key] = super().found(tickets, text, limit=limit, ranked=ranked)
        return self.results[key]

    def count_rows(self, queryset) -> tuple[int, bool]:
        try:
            key = ("count_rows", str(queryset.query))
        except EmptyResultSet:
            return 0, True
        if key not in self.results:
            self.results[key] = super().count_rows(queryset)
        return self.results[key]

    def view_count(self, slug: str, user: User, visible, reach: tuple) -> int:
        """The count of saved view `slug` for agents whose visible tickets (`visible`) compile
        to `reach`, and for `user` alone when the view is personal."""
        queue = QUEUES[slug]
        key = ("view", slug, reach, user.pk if queue.personal else None)
        if key not in self.results:
            self.results[key] = queue.narrow(visible, user).count()
        return self.results[key]

    def render_rows(self, ids: set[int]) -> dict[str, str]:
        missing = ids - set(self.rows)
        if missing:
            tickets = list(tickets_for_rows(missing).values())
            for ticket, row in zip(tickets, rows_of(tickets), strict=True):
                self.rows[ticket.pk] = render_to_string("tickets/_queue_row.html", {"row": row})
        return {str(pk): self.rows[pk] for pk in ids if pk in self.rows}

    def viewers(self, ids: list[int]) -> list[tuple[int, int, str]]:
        key = ("viewers", tuple(ids))
        if key not in self.results:
            rows = live_viewers().filter(ticket_id__in=ids).select_related("user")
            self.results[key] = [(v.ticket_id, v.user_id, str(v.user)) for v in rows]
        return self.results[key]


def queue_state(
    sub: Subscription, *, changed: set[int] = frozenset(), everything: bool = False, batch: Batch | None = None
) -> dict | None:
    """The ids the queue page should show now, in order, with the rows it lacks or that
    `changed`; `everything` renders every row (a reconnected page may have missed anything)."""
    batch = batch or Batch()
    tickets = queue_tickets(sub, batch)
    if tickets is None:
        return None
    # The same page as the view computes (cursor, number or search), through the batch's cache.
    ids = batch.page_ids(tickets, sub)
    shown = set(sub.shown)
    wanted = set(ids) if everything else {pk for pk in ids if pk not in shown or pk in changed}
    rows = batch.render_rows(wanted) if wanted else {}
    sub.shown = ids
    viewing: dict[str, list[str]] = {}
    for ticket_id, user_id, name in batch.viewers(ids):
        if user_id != sub.user.pk and name not in viewing.setdefault(str(ticket_id), []):
            viewing[str(ticket_id)].append(name)
    return {"type": "queue", "ids": ids, "rows": rows, "viewing": {t: sorted(n) for t, n in viewing.items() if n}}


# --- ticket pages -------------------------------------------------------------------------


def ticket_properties(ticket: Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "priority": ticket.priority,
        "priority_label": ticket.get_priority_display(),
        "assignee": ticket.assignee_id,
        "assignee_label": str(ticket.assignee) if ticket.assignee_id else "",
        "group": ticket.group_id,
        "group_label": str(ticket.group) if ticket.group_id else "",
        "tags": " ".join(sorted(t.name for t in ticket.tags.all())),
        "subject": ticket.subject,
    }


def render_comments(ticket_id: int, after: int) -> list[dict]:
    # Drawn as the ticket page draws them: the @handle, "view on X" and media included.
    return [
        {
            "id": c.pk,
            "agent": c.author_user_id,
            "author": c.author_name,
            "html": render_to_string("tickets/_comment.html", {"comment": c}),
        }
        for c in thread.messages(Comment.objects.filter(ticket_id=ticket_id, pk__gt=after))
    ]


def ticket_state(sub: Subscription, *, with_comments: bool = True) -> dict:
    """Everything a ticket page shows that may have moved: properties, newer comments, the
    delivery states of its recent comments. Also what a reconnected page resynchronises from."""
    ticket = visible_tickets(sub.user).select_related("assignee", "group").filter(pk=sub.ticket_id).first()
    if ticket is None:
        return {"type": "ticket.gone"}
    state: dict[str, Any] = {"type": "ticket", "properties": ticket_properties(ticket)}
    if with_comments and sub.last_comment is not None:
        state["comments"] = render_comments(ticket.pk, sub.last_comment)
        if state["comments"]:
            sub.last_comment = state["comments"][-1]["id"]
    recent = Comment.objects.filter(ticket=ticket).exclude(delivery="").order_by("-id")[:100]
    state["deliveries"] = [delivery_of(c) for c in recent]
    return state


def delivery_of(comment: Comment) -> dict:
    return {
        "comment": comment.pk,
        "delivery": comment.delivery,
        "label": comment.get_delivery_display(),
        "error": comment.delivery_error,
    }


# --- presence -----------------------------------------------------------------------------

# Channel-layer groups: the sockets of one ticket's pages, and every queue page's socket.
QUEUE_PRESENCE_GROUP = "live.queue-presence"


def ticket_group(ticket_id: int) -> str:
    return f"live.ticket.{ticket_id}"


def live_viewers():
    # Rows are touched every heartbeat by their socket's process (live/feed.py); an older
    # row's process is gone, even before some feed's sweep deletes it.
    cutoff = timezone.now() - timedelta(seconds=settings.LIVE_SILENCE_SECONDS)
    return Viewer.objects.filter(seen_at__gte=cutoff)


def touch_and_expire_viewers(channel_names: list[str]) -> list[int]:
    """Mark this process's open ticket pages as seen now, delete the viewers nobody touched
    for the silence limit (their socket or process vanished) and return those tickets."""
    now = timezone.now()
    if channel_names:
        Viewer.objects.filter(channel_name__in=channel_names).update(seen_at=now)
    expired = list(
        Viewer.objects.filter(seen_at__lt=now - timedelta(seconds=settings.LIVE_SILENCE_SECONDS)).values_list(
            "pk", "ticket_id"
        )
    )
    if not expired:
        return []
    # Two feeds sweeping at once may both announce a ticket: a second update is harmless.
    Viewer.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
    return sorted({ticket_id for _, ticket_id in expired})


def viewing_names(ticket_ids: list[int], user: User) -> dict[str, list[str]]:
    """For each of these tickets that someone else has open: their names."""
    names: dict[str, set[str]] = {}
    rows = live_viewers().filter(ticket_id__in=ticket_ids).exclude(user=user).values_list("ticket_id", "user_id")
    for ticket_id, user_id in rows:
        names.setdefault(str(ticket_id), set()).add(user_id)
    people = {u.pk: str(u) for u in User.objects.filter(pk__in={pk for s in names.values() for pk in s})}
    return {ticket: sorted(people[pk] for pk in pks) for ticket, pks in names.items()}


def viewers_of(ticket_id: int, channel_name: str) -> list[dict]:
    """The other sockets on this ticket's page (a person with two tabs counts once)."""
    rows = live_viewers().filter(ticket_id=ticket_id).exclude(channel_name=channel_name).select_related("user")
    seen: dict[int, dict] = {}
    for row in rows:
        seen.setdefault(row.user_id, {"user": row.user_id, "name": str(row.user)})
    return sorted(seen.values(), key=lambda v: v["name"])


# --- counters and notices -----------------------------------------------------------------


def view_counts(user: User, batch: Batch) -> dict[str, int]:
    """Tickets per saved view for the sidebar. Agents who may see the same tickets share each
    view's count ("Mine" is counted per agent): what they may see is compiled once per agent
    and is the key, where compiling every view's query per agent to key it on its SQL cost
    more than the counts (50 agents: 210 ms a batch, the live feed waiting meanwhile). The
    "breaching" view asks the clock, so its SQL differed per agent and was counted 50 times."""
    visible = batch.visible(user)
    try:
        sql, params = visible.order_by().query.sql_with_params()
    except EmptyResultSet:
        return dict.fromkeys(QUEUES, 0)
    reach = (sql, tuple(params))
    return {slug: batch.view_count(slug, user, visible, reach) for slug in QUEUES}


def followed_views(user: User) -> set[str]:
    return set(FollowedView.objects.filter(user=user).values_list("view", flat=True))


def notices_for(event: LiveEvent, ticket: Ticket, sub: Subscription) -> list[dict]:
    """In-app notices (and browser notifications) this event earns this agent."""
    user, data = sub.user, event.data
    if data.get("actor") == user.pk:
        return []  # nobody needs telling about their own doing
    label = f"#{ticket.pk} {ticket.subject}"
    url = ticket.get_absolute_url()
    notices = []
    if data.get("created"):
        for slug in sorted(sub.followed):
            queue = QUEUES.get(slug)
            if queue and queue.narrow(visible_tickets(user), user).filter(pk=ticket.pk).exists():
                notices.append({"type": "notice", "kind": "new", "title": f"New ticket in {queue.label}",
                                "text": label, "url": url})
                break
    if data.get("assigned_to") == user.pk and ticket.assignee_id == user.pk:
        notices.append({"type": "notice", "kind": "assigned", "title": "Assigned to you", "text": label, "url": url})
    if data.get("from_requester") and not data.get("created") and ticket.assignee_id == user.pk:
        notices.append({"type": "notice", "kind": "reply", "title": f"{ticket.requester} replied", "text": label,
                        "url": url})
    return notices


def actor_names(events: list[LiveEvent]) -> str:
    return ", ".join(sorted({e.data["by"] for e in events if e.kind == LiveEvent.Kind.TICKET and e.data.get("by")}))


# --- one batch ----------------------------------------------------------------------------


def plan(
    events: list[LiveEvent], subs: list[Subscription], batch: Batch | None = None
) -> tuple[list[tuple[Subscription, dict]], list[Subscription]]:
    """The messages to send for these events, in order, per socket; and the sockets whose
    sidebar counters moved (counted afterwards by `plan_counts`, so rows go out first)."""
    if not events or not subs:
        return [], []
    batch = batch or Batch()
    subs = current_users(subs)
    by_ticket: dict[int, list[LiveEvent]] = {}
    for event in events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    tickets = Ticket.objects.select_related("requester").in_bulk(list(by_ticket))
    out: list[tuple[Subscription, dict]] = []
    recount: list[Subscription] = []
    for sub in subs:
        visible = set(batch.ids(batch.visible(sub.user).filter(pk__in=list(by_ticket)).order_by("pk")))
        if sub.page == QUEUE_PAGE:
            # Only tickets the agent may see can enter; a row already shown may leave.
            if visible or set(sub.shown) & set(by_ticket):
                state = queue_state(sub, changed=visible, batch=batch)
                if state is not None:
                    out.append((sub, state))
        elif sub.page == TICKET_PAGE and sub.ticket_id in by_ticket:
            if sub.ticket_id in visible:
                state = ticket_state(sub, with_comments=True)
                state["changed_by"] = actor_names(by_ticket[sub.ticket_id])
                out.append((sub, state))
            else:
                out.append((sub, {"type": "ticket.gone"}))
        for ticket_id in sorted(visible):
            for event in by_ticket[ticket_id]:
                if event.kind == LiveEvent.Kind.TICKET and ticket_id in tickets:
                    out.extend((sub, notice) for notice in notices_for(event, tickets[ticket_id], sub))
        if visible and any(e.kind == LiveEvent.Kind.TICKET for t in visible for e in by_ticket[t]):
            recount.append(sub)
        elif sub.user.is_restricted and _left_some_reach(by_ticket, visible):
            # Not visible now, but it may have been until this change: the count drops.
            recount.append(sub)
    return out, recount


# The ticket fields a restricted agent's reach depends on (tickets.access.visible_tickets).
REACH_FIELDS = {"group_id", "channel"}


def _left_some_reach(by_ticket: dict[int, list[LiveEvent]], visible: set[int]) -> bool:
    return any(
        e.kind == LiveEvent.Kind.TICKET and REACH_FIELDS & set(e.data.get("fields", ()))
        for ticket_id, events in by_ticket.items() if ticket_id not in visible
        for e in events
    )


def current_users(subs: list[Subscription]) -> list[Subscription]:
    """The subscriptions whose user may still use the helpdesk, each with the user as stored
    now: a page re-reads its user on every request, so a socket must not keep answering with
    the role or the access its user had when it connected."""
    users = User.objects.in_bulk({sub.user.pk for sub in subs})
    active = []
    for sub in subs:
        user = users.get(sub.user.pk)
        if user is not None and user.is_active:
            sub.user = user
            active.append(sub)
    return active


def plan_counts(subs: list[Subscription], batch: Batch) -> list[tuple[Subscription, dict]]:
    return [(sub, {"type": "counts", "counts": view_counts(sub.user, batch)}) for sub in subs]
