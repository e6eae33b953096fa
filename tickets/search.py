"""Finding tickets by text: PostgreSQL full-text search on subjects and messages, trigram
lookups for people (names, email addresses, X handles) and partial words in subjects.

`find(tickets, text, limit=…)` returns up to `limit` ids of `tickets` (a queue, already
narrowed to what the agent may see, filtered and sorted) that the text finds. Words are
matched by the `search_vector` columns that PostgreSQL keeps (`tickets.search_vectors`),
through their GIN indexes, with `websearch_to_tsquery` (quotes for phrases, `or`, `-word`)
in `settings.SEARCH_LANGUAGE`, so "refunds" finds "refund". A partial word ("refu") finds
subjects and people, not messages: the trigram index over millions of messages was what made
search slow.

Two plans, chosen per search from PostgreSQL's own estimate of the matching messages:

- A rare word: collect the ids every place finds (one UNION of index lookups), then keep
  the queue's tickets among them, in the queue's order. Cost grows with the matches.
- A common word (in half the tickets): the UNION would collect hundreds of thousands of ids
  to show 50. Instead walk the queue in its own order, a chunk of tickets at a time, and
  keep those the text finds (their messages looked up by ticket id), until `limit` are
  found. Cost grows with limit / share of tickets matching, so it stays small exactly when
  the UNION would be big.

Ranking (`ranked=True`) orders the tickets found by ts_rank (a subject match counts double),
newest first among equals. Past `limit` the ranking is among the first `limit` matches in
the queue's order, the ones the walk found: exact ranking of 500,000 matches would cost
seconds, and a word that common ranks everything nearly alike.

On SQLite (`make run` without DATABASE_URL) there are no vectors: search falls back to
`icontains` on subjects and messages (a scan, fine for a development database).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from . import keyset
from .estimates import plan_rows, table_rows
from .models import Comment, Identity, Requester, Ticket

# Trigram indexes need three characters; a shorter text would scan every subject.
MIN_PARTIAL = 3
# Smallest and largest chunk of queue rows the common-word walk reads at a time.
WALK_CHUNK_MIN, WALK_CHUNK_MAX = 500, 20_000
# A subject match ranks above a message match of the same weight.
SUBJECT_WEIGHT = 2.0


def find(tickets: QuerySet[Ticket], text: str, *, limit: int, ranked: bool = False) -> list[int]:
    text = text.strip()
    if not text:
        return list(tickets.values_list("pk", flat=True)[:limit])
    if connection.vendor != "postgresql":
        return list(tickets.filter(pk__in=_scanning_ids(text)).values_list("pk", flat=True)[:limit])
    query = SearchQuery(text, search_type="websearch", config=settings.SEARCH_LANGUAGE)
    terms = keyset.order_terms(tickets)
    share = _share_to_walk(query, limit) if terms is not None else None
    scored = _walk(tickets, terms, query, text, limit, share) if share is not None else None
    if scored is None:
        ids = list(tickets.filter(_id_in(matching_ticket_ids(text))).values_list("pk", flat=True)[:limit])
        if not ranked or len(ids) < 2:  # nothing to order
            return ids
        scored = _scores_of(ids, query)
    return _by_rank(scored) if ranked else [row[0] for row in scored]


def matching_ticket_ids(text: str) -> QuerySet:
    """The ids of every ticket the text finds, as one UNION of id subqueries, one per place
    searched, each through its own index (an OR across columns and subqueries could use none
    of them). The UNION removes duplicates: a ticket with many matching messages is listed once.
    """
    query = SearchQuery(text, search_type="websearch", config=settings.SEARCH_LANGUAGE)
    arms = [
        Ticket.objects.filter(search_vector=query).values("pk"),
        Comment.objects.filter(search_vector=query).values("ticket_id"),
        # The requesters first, then their tickets once: joining each of the three
        # requester lookups to the tickets separately read the tickets three times. By
        # array, as in `_id_in`: as IN, a common surname's 650 requesters made PostgreSQL
        # hash-join a scan of every ticket (300 ms at 1M tickets) instead of their index.
        Ticket.objects.filter(_any_of("requester_id", _matching_requesters(text))).values("pk"),
    ]
    if len(text) >= MIN_PARTIAL:
        arms.append(Ticket.objects.filter(subject__icontains=text).values("pk"))
    if number := _ticket_number(text):
        arms.append(Ticket.objects.filter(pk=number).values("pk"))
    return _union(*arms)


def _scores(
    tickets: QuerySet[Ticket], names: list[str], query: SearchQuery, matches: Q | None = None, limit: int | None = None
) -> list:
    """Rows of `names` plus the ticket's score: ts_rank of the subject (counted double) plus
    the best ts_rank among its messages, the latter a subquery per ticket through the
    comments' ticket index (a few messages each). With `matches`, a last column says whether
    the ticket itself matches (subject, requester, number) as well."""
    best_message = (
        Comment.objects.filter(ticket_id=OuterRef("pk"), search_vector=query)
        .order_by()
        .values("ticket_id")
        .annotate(best=Max(SearchRank(F("search_vector"), query)))
        .values("best")
    )
    tickets = tickets.annotate(
        subject_rank=SearchRank(F("search_vector"), query), message_rank=Subquery(best_message)
    )
    extra = ["subject_rank", "message_rank"]
    if matches is not None:
        tickets = tickets.annotate(itself=ExpressionWrapper(matches, output_field=BooleanField()))
        extra.append("itself")
    rows = []
    for row in tickets.values_list(*names, *extra)[:limit]:
        *keys, subject_rank, message_rank = row[: len(names) + 2]
        score = SUBJECT_WEIGHT * (subject_rank or 0) + (message_rank or 0)
        found = message_rank is not None or (matches is not None and row[-1])
        rows.append((*keys, score, found))
    return rows


def _scores_of(ids: list[int], query: SearchQuery) -> list:
    """(id, score, True) for tickets the UNION found, in their order. Not `_scores`' query
    per ticket: here the words are rare (or the walk would have run), so the matching
    messages are few and PostgreSQL may read them through the word's index instead of
    every message of up to 1,000 tickets (56 -> 10 ms at 100k tickets, a word in 0.2%).

    Only subjects that match are ranked (ts_rank of any other is 0), and the up to 1,000
    ids go as one array parameter: as `IN (…)` Django prepared each of them as a parameter
    of its own, twice, which took longer than both queries (28 ms)."""
    subject = dict(
        Ticket.objects.filter(_in_array("id", ids), search_vector=query)
        .order_by()
        .annotate(rank=SearchRank(F("search_vector"), query))
        .values_list("pk", "rank")
    )
    messages = dict(
        Comment.objects.filter(_in_array("ticket_id", ids, model=Comment), search_vector=query)
        .order_by()
        .values("ticket_id")
        .annotate(best=Max(SearchRank(F("search_vector"), query)))
        .values_list("ticket_id", "best")
    )
    return [(pk, SUBJECT_WEIGHT * (subject.get(pk) or 0) + (messages.get(pk) or 0), True) for pk in ids]


def _by_rank(scored: list) -> list[int]:
    """Ids by score, best first; ties keep their order (the queue's)."""
    order = sorted(range(len(scored)), key=lambda n: (-scored[n][-2], n))
    return [scored[n][0] for n in order]


# --- choosing the plan ------------------------------------------------------------------


def _share_to_walk(query: SearchQuery, limit: int) -> float | None:
    """The share of tickets the words are expected in, when walking the queue is the cheaper
    plan; None when the UNION is. The two plans' work, in messages read: the UNION reads
    every matching message; the walk reads the messages of limit / share tickets.
    PostgreSQL estimates the matching messages from the vector column's statistics (its
    most common words and their frequencies), at the cost of planning one query."""
    comments, tickets = table_rows(Comment, Ticket)
    if comments <= 0 or tickets <= 0:
        return None
    matching = plan_rows(Comment.objects.filter(search_vector=query).order_by().values("pk"))
    per_ticket = comments / tickets
    # Tickets with at least one matching message, were the matches spread evenly.
    share = 1 - (1 - min(matching / comments, 1)) ** per_ticket
    if share <= 0 or limit / share * per_ticket >= matching:
        return None
    return share


# --- the common-word walk ---------------------------------------------------------------


def _walk(
    tickets: QuerySet[Ticket], terms: list[keyset.Term], query: SearchQuery, text: str, limit: int, share: float
) -> list | None:
    """Up to `limit` matches in the queue's order, as (id, score, True) rows; None when the
    words turn out much rarer in this queue than in the whole helpdesk (a restricted agent's
    groups, a filter) and walking on would cost more than the UNION.

    One query per chunk: the chunk's tickets in order, each with its score and whether it
    matches; PostgreSQL evaluates the per-ticket message subquery only for the chunk's rows."""
    found: list = []
    cursor = None
    expected = math.ceil(limit / share)
    walked = 0
    # Enough tickets to find `limit` at the expected share, with a margin: usually one chunk.
    chunk = min(max(math.ceil(expected * 1.25), WALK_CHUNK_MIN), WALK_CHUNK_MAX)
    names = [t.name for t in terms]
    itself = _ticket_matches(query, text)
    while len(found) < limit:
        if walked > 4 * expected:
            return None
        page = tickets if cursor is None else keyset.after(tickets, terms, cursor)
        rows = _scores(page, names, query, itself, limit=chunk)
        if not rows:
            break
        walked += len(rows)
        found += [(row[-3], row[-2], True) for row in rows if row[-1]]
        cursor = list(rows[-1][: len(names)])
        # Read more at once when matches are sparser than hoped: fewer round trips.
        chunk = min(chunk * 2, WALK_CHUNK_MAX)
    return found[:limit]


def _ticket_matches(query: SearchQuery, text: str) -> Q:
    """What finds a ticket by its own row: the subject's words, its requester, a partial
    word of the subject, its number (messages are looked up separately)."""
    itself = Q(search_vector=query) | Q(requester_id__in=_matching_requesters(text))
    if len(text) >= MIN_PARTIAL:
        itself |= Q(subject__icontains=text)
    if number := _ticket_number(text):
        itself |= Q(pk=number)
    return itself


# --- shared -----------------------------------------------------------------------------


def _matching_requesters(text: str) -> QuerySet:
    handle = text.removeprefix("@")
    return _union(
        Requester.objects.filter(name__icontains=text).values("pk"),
        Identity.objects.filter(value__icontains=text).values("requester_id"),
        Identity.objects.filter(kind=Identity.Kind.X, handle__icontains=handle).values("requester_id"),
    )


def _ticket_number(text: str) -> int | None:
    # Longer than 18 digits would overflow bigint.
    return int(text) if text.isdigit() and len(text) < 18 else None


def _scanning_ids(text: str) -> QuerySet:
    """SQLite's search: the same places, `icontains` instead of the word index."""
    arms = [
        Ticket.objects.filter(subject__icontains=text).values("pk"),
        Comment.objects.filter(body__icontains=text).values("ticket_id"),
        Ticket.objects.filter(requester_id__in=_matching_requesters(text)).values("pk"),
    ]
    if number := _ticket_number(text):
        arms.append(Ticket.objects.filter(pk=number).values("pk"))
    return _union(*arms)


def _id_in(ids: QuerySet) -> RawSQL:
    """`id = ANY(ARRAY(ids))`: the ids are collected first, then the tickets read by primary
    key. As `id IN (ids)` PostgreSQL preferred a hash semi-join that reads every ticket of
    the queue's index (17 ms at 100k tickets, ten times that at 1M) to keep a few thousand."""
    return _any_of("id", ids)


def _any_of(column: str, values: QuerySet) -> RawSQL:
    """The ticket's `column` is one of `values` (a one-column queryset), evaluated once as an
    array and then looked up through the column's index."""
    sql, params = values.query.sql_with_params()
    quote = connection.ops.quote_name
    return RawSQL(f"{quote(Ticket._meta.db_table)}.{quote(column)} = ANY(ARRAY({sql}))", params, output_field=BooleanField())


def id_among(ids: list[int]) -> RawSQL:
    """A filter for the tickets whose id is one of `ids`, passed as one array parameter."""
    return _in_array("id", ids)


def _in_array(column: str, values: list[int], *, model=Ticket) -> RawSQL:
    """`column = ANY(%s)`, the values passed as one array parameter."""
    quote = connection.ops.quote_name
    return RawSQL(f"{quote(model._meta.db_table)}.{quote(column)} = ANY(%s)", [values], output_field=BooleanField())


def _union(*querysets: QuerySet) -> QuerySet:
    # No ORDER BY inside a compound query: the models' default orderings would be a syntax
    # error there on some databases, and order means nothing to IN.
    first, *rest = (qs.order_by() for qs in querysets)
    return first.union(*rest)

