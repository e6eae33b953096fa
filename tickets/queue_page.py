"""One page of the queue: which ticket ids it shows, then those tickets' rows.

Ids first: paginating the full queryset makes PostgreSQL build whole rows, joined to
requester, assignee and group, for every row it skips; reading only the sort keys and ids
lets the page run on the narrow sort index, and the 50 chosen rows are then loaded by
primary key with their relations.

Pages are read three ways:
- `page=N` for the first pages (and old bookmarks): OFFSET, cheap while N is small.
- `after=<cursor>` / `before=<cursor>`: the Next and Previous links. Keyset pagination
  (`tickets.keyset`): page 20 or page 2,000 costs what page 2 does (page 20 of the open
  queue at 1M tickets: 157 ms by OFFSET). The links also carry `page=N` for the label only.
- `page=last` (or a number at or past the end): the queue read backwards, so the last page
  costs what the first does; it holds the rest, as numbered pages would.
Searches (`q`) find at most SEARCH_RESULTS_CAP tickets (`tickets.search`) and page through
them in memory by number; past the cap the count reads "1000+".

The live queue (`live.audience`) asks `page_ids` for the same ids, so a page's live updates
show exactly what a reload would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import QuerySet
from django.http import QueryDict

from . import keyset, search
from .estimates import count_rows
from .models import Ticket
from .queue_rows import Row, rows_of, tickets_for_rows

# Searches list at most this many tickets (20 pages); the count then reads "1000+".
SEARCH_RESULTS_CAP = 1000
# "Best match": the sort a search gets unless the agent picked one.
RELEVANCE = "relevance"


class Plain:
    """Runs a page's queries directly; the live queue passes a cache shared by many sockets."""

    def values(self, queryset: QuerySet) -> list[tuple]:
        return list(queryset)

    def count_rows(self, queryset: QuerySet) -> tuple[int, bool]:
        return count_rows(queryset)

    def found(self, tickets: QuerySet[Ticket], text: str, *, limit: int, ranked: bool) -> list[int]:
        return search.find(tickets, text, limit=limit, ranked=ranked)


@dataclass
class PageIds:
    ids: list[int]
    count: int
    number: int | None  # None: reached by a cursor without a page number
    num_pages: int
    capped: bool = False
    count_is_estimate: bool = False  # past EXACT_COUNT_UP_TO tickets: "about N"
    has_previous: bool = False
    has_next: bool = False
    # Query-string changes for the links ({"page": …, "after": …, "before": …}; None removes).
    previous_link: dict = field(default_factory=dict)
    next_link: dict = field(default_factory=dict)


@dataclass
class QueuePage(PageIds):
    object_list: list[Ticket] = field(default_factory=list)

    @cached_property
    def rows(self) -> list[Row]:
        """The page's rows as the queue draws them (`tickets.queue_rows`)."""
        return rows_of(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def count_shown(self) -> str:
        """The count as the queue's heading shows it: "1,204"; an estimate to two significant
        figures ("about 50,000", not "about 49909": the planner's figure is no more exact)."""
        if not self.count_is_estimate:
            return f"{self.count:,}"
        return f"about {round(self.count, 2 - len(str(self.count))):,}"


def queue_page(tickets: QuerySet[Ticket], params: dict, query: QueryDict, per_page: int) -> QueuePage:
    """The page `query` asks for of `tickets` (filtered and sorted, not searched yet)."""
    found = page_ids(tickets, params, query, per_page)
    rows = tickets_for_rows(found.ids)
    # in_bulk() returns a dict; put the rows back in the queue's order. A ticket deleted
    # between the two queries is simply left out of this page.
    return QueuePage(**vars(found), object_list=[rows[pk] for pk in found.ids if pk in rows])


def page_ids(
    tickets: QuerySet[Ticket], params: dict, query: QueryDict, per_page: int, *, run: Plain | None = None
) -> PageIds:
    run = run or Plain()
    if params.get("q"):
        return _search_page(tickets, params, query, per_page, run)
    # Exact up to 1,000 tickets (EXACT_COUNT_UP_TO), PostgreSQL's estimate past that: the exact COUNT of a
    # restricted agent's 400,000 tickets was the slowest query of the page (1M tickets).
    count, exact = run.count_rows(tickets)
    page = _queue_page_ids(tickets, query, per_page, run, count)
    page.count_is_estimate = not exact
    return page


def _queue_page_ids(tickets, query, per_page, run, count: int) -> PageIds:
    terms = keyset.order_terms(tickets)
    num_pages = max(1, math.ceil(count / per_page))
    if terms is not None:
        for direction in ("after", "before"):
            values = keyset.decode(query.get(direction, ""), terms)
            if values is not None:
                page = _cursor_page(tickets, terms, values, direction, query, per_page, count, num_pages, run)
                if page is not None:
                    return page
    number = _number(query.get("page"), num_pages)
    if terms is not None and number == num_pages and number > 1:
        return _last_page(tickets, terms, per_page, count, num_pages, run)
    names = [t.name for t in terms] if terms else ["pk"]
    offset = (number - 1) * per_page
    rows = run.values(tickets.values_list(*names)[offset : offset + per_page])
    return _page(rows, terms, count, number, num_pages, has_previous=number > 1, has_next=number < num_pages)


def _cursor_page(tickets, terms, values, direction, query, per_page, count, num_pages, run) -> PageIds | None:
    names = [t.name for t in terms]
    label = _label(query.get("page"), num_pages)
    if direction == "after":
        rows = run.values(keyset.after(tickets, terms, values).values_list(*names)[: per_page + 1])
        if not rows:
            return None  # the rows after the cursor went (deleted, solved): the last page instead
        return _page(rows[:per_page], terms, count, label, num_pages, has_previous=True, has_next=len(rows) > per_page)
    backwards = [t.reversed() for t in terms]
    rows = run.values(keyset.after(tickets.reverse(), backwards, values).values_list(*names)[: per_page + 1])
    if len(rows) <= per_page:
        return None  # back at the start: page 1 in full rather than a short first page
    rows = rows[:per_page][::-1]
    return _page(rows, terms, count, label, num_pages, has_previous=True, has_next=True)


def _last_page(tickets, terms, per_page, count, num_pages, run) -> PageIds:
    names = [t.name for t in terms]
    rest = count - (num_pages - 1) * per_page
    rows = run.values(tickets.reverse().values_list(*names)[:rest])[::-1]
    return _page(rows, terms, count, num_pages, num_pages, has_previous=True, has_next=False)


def _page(rows, terms, count, number, num_pages, *, has_previous, has_next) -> PageIds:
    page = PageIds(
        ids=[row[-1] for row in rows], count=count, number=number, num_pages=num_pages,
        has_previous=has_previous and bool(rows), has_next=has_next and bool(rows),
    )
    if terms is None or not rows:
        # OFFSET only (a sort keyset cannot follow): numbered links.
        if number is not None:
            page.previous_link = {"page": number - 1, "after": None, "before": None}
            page.next_link = {"page": number + 1, "after": None, "before": None}
        return page
    previous_number = number - 1 if number else None
    if previous_number == 1:
        page.previous_link = {"page": 1, "after": None, "before": None}
    else:
        page.previous_link = {"before": keyset.encode(list(rows[0])), "after": None, "page": previous_number}
    page.next_link = {"after": keyset.encode(list(rows[-1])), "before": None, "page": number + 1 if number else None}
    return page


def _search_page(tickets, params, query, per_page, run) -> PageIds:
    ranked = params.get("sort", RELEVANCE) == RELEVANCE
    ids = run.found(tickets, params["q"], limit=SEARCH_RESULTS_CAP + 1, ranked=ranked)
    capped = len(ids) > SEARCH_RESULTS_CAP
    ids = ids[:SEARCH_RESULTS_CAP]
    num_pages = max(1, math.ceil(len(ids) / per_page))
    number = _number(query.get("page"), num_pages)
    page = PageIds(
        ids=ids[(number - 1) * per_page : number * per_page], count=len(ids), number=number, num_pages=num_pages,
        capped=capped, has_previous=number > 1, has_next=number < num_pages,
    )
    page.previous_link = {"page": number - 1, "after": None, "before": None}
    page.next_link = {"page": number + 1, "after": None, "before": None}
    return page


def _number(value: str | None, num_pages: int) -> int:
    """As Paginator.get_page reads it: missing or invalid is 1, past the end (or "last") the last."""
    if value == "last":
        return num_pages
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), num_pages)


def _label(value: str | None, num_pages: int) -> int | None:
    """The page number a cursor link carries, for the "Page N of M" label only."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= num_pages else None
