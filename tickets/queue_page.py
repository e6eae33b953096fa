"""One page of the queue, fetched ids first.

Paginating the full queryset makes PostgreSQL build whole rows, joined to requester,
assignee and group, for every row it skips: page 2,000 of "all tickets" joined 100,000 rows
to show 50, and the status sort sorted 100,000 wide joined rows. Paginating only the ids
lets the OFFSET and the sort run on the narrow (updated_at, id) index or on ids alone; the
50 chosen rows are then loaded by primary key with their relations.
(bench/pages.py, 100k tickets: last page 580 -> 140 ms, status sort 270 -> 163 ms.)
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from .models import Ticket

# Searches list at most this many tickets (20 pages); the count then reads "1000+".
SEARCH_RESULTS_CAP = 1000


def queue_page(
    tickets: QuerySet[Ticket], number: str | int | None, per_page: int, *, cap: int | None = None
) -> Page:
    """The page `number` of `tickets` (in their order), as `Paginator.get_page` reads it:
    a missing or invalid number is page 1, one past the end is the last page.

    With `cap` (searches), the first cap + 1 ids are read in one query and paginated in
    memory. A search's cost is finding its matches (the UNION in `filters.search`), which
    a COUNT query and a page query each paid in full; this pays it once. Past the cap the
    count shows as "cap+" (`page.capped`): nobody pages through 1,000 search results, and
    the exact count of a very common word would cost as much again. The cap does not make
    a very common word ("refund": 77k tickets, 1.3 s) fast: its UNION is built whole either
    way (a LIMITed COUNT measured no faster); that needs a plan that can stop early.
    """
    ids: QuerySet | list = tickets.values_list("pk", flat=True)
    if cap is not None:
        ids = list(ids[: cap + 1])
    capped = cap is not None and len(ids) > cap
    page = Paginator(ids[:cap] if capped else ids, per_page).get_page(number)
    page.capped = capped
    ids = list(page.object_list)
    rows = (
        Ticket.objects.filter(pk__in=ids)
        .order_by()
        .select_related("requester", "assignee", "group")
        .prefetch_related("tags")
        .in_bulk()
    )
    # in_bulk() returns a dict; put the rows back in the queue's order. A ticket deleted
    # between the two queries is simply left out of this page.
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page
