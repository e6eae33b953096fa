"""Keyset ("seek") pagination over an ordered ticket queryset: the rows after (or before) a
given row, read from where that row sits in the sort's index instead of skipping OFFSET rows.

OFFSET makes PostgreSQL produce and throw away every row before the page: page 20 of the
open queue walked 1,000 index entries and their heap rows (157 ms at 1M tickets). A cursor
names the last row shown, by its sort values; the next page is the rows strictly after it,
which the index finds directly, so page 2,000 costs what page 2 does.

A cursor is the row's sort values, JSON in URL-safe base64; nothing secret is in it (the
rows are still read through the agent's own queryset, so a forged cursor only moves the
page). A cursor that does not decode for the current sort is treated as no cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import and_, or_

from django.core.exceptions import FieldDoesNotExist
from django.db.models import DateTimeField, F, OrderBy, Q, QuerySet
from django.utils.dateparse import parse_datetime

from .models import Ticket


@dataclass(frozen=True)
class Term:
    """One ORDER BY term: a field or annotation name, its direction and where NULLs go."""

    name: str
    descending: bool
    nulls_last: bool

    def reversed(self) -> Term:
        return Term(self.name, not self.descending, not self.nulls_last)


def order_terms(qs: QuerySet) -> list[Term] | None:
    """The queryset's ORDER BY as terms, or None when it is not plain names and F()s (the
    caller then pages by OFFSET). NULLs default as PostgreSQL places them: last ascending."""
    terms = []
    for entry in qs.query.order_by:
        if isinstance(entry, str):
            descending = entry.startswith("-")
            terms.append(Term(entry.lstrip("-"), descending, not descending))
        elif isinstance(entry, OrderBy) and isinstance(entry.expression, F):
            nulls_last = entry.nulls_last if entry.nulls_last or entry.nulls_first else not entry.descending
            terms.append(Term(entry.expression.name, entry.descending, bool(nulls_last)))
        else:
            return None
    # Without a unique last term two rows could share a cursor and one would be skipped.
    if not terms or terms[-1].name not in ("id", "pk"):
        return None
    return terms


def after(qs: QuerySet, terms: list[Term], values: list) -> QuerySet:
    """The rows of `qs` strictly after the row whose sort values are `values`."""
    arms = []
    for k, term in enumerate(terms):
        equal_before = [_equal(t, v) for t, v in zip(terms[:k], values[:k], strict=True)]
        arms.append(reduce(and_, [*equal_before, _beyond(term, values[k])]))
    qs = qs.filter(reduce(or_, arms))
    # The OR above is exact but no index bound; this redundant bound on the first column is,
    # so the scan starts at the cursor instead of filtering its way there from the top.
    first, value = terms[0], values[0]
    if value is not None and _is_plain_not_null_column(first.name):
        qs = qs.filter(**{f"{first.name}__{'lte' if first.descending else 'gte'}": value})
    return qs


def _equal(term: Term, value) -> Q:
    return Q(**{f"{term.name}__isnull": True}) if value is None else Q(**{term.name: value})


def _beyond(term: Term, value) -> Q:
    if value is None:
        # NULLs last: nothing comes after a NULL but other NULLs (ordered by later terms).
        return Q(pk__in=[]) if term.nulls_last else Q(**{f"{term.name}__isnull": False})
    beyond = Q(**{f"{term.name}__{'lt' if term.descending else 'gt'}": value})
    return beyond | Q(**{f"{term.name}__isnull": True}) if term.nulls_last else beyond


def _is_plain_not_null_column(name: str) -> bool:
    try:
        field = Ticket._meta.get_field(name)
    except FieldDoesNotExist:  # an annotation (status_rank): no index to bound
        return False
    return field.concrete and not field.null


def encode(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, terms: list[Term]) -> list | None:
    """The sort values in `token`, typed for `terms`; None when it is not a cursor of this sort."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(terms):
        return None
    typed = []
    for term, value in zip(terms, values, strict=True):
        if value is None:
            typed.append(value)
        elif _is_datetime(term.name):
            if not isinstance(value, str) or (moment := _datetime(value)) is None:
                return None
            typed.append(moment)
        elif isinstance(value, int) and not isinstance(value, bool):
            typed.append(value)
        else:
            return None
    if typed[-1] is None:
        return None
    return typed


def _is_datetime(name: str) -> bool:
    try:
        return isinstance(Ticket._meta.get_field(name), DateTimeField)
    except FieldDoesNotExist:  # an annotation (status_rank), an integer
        return False


def _datetime(value: str) -> datetime | None:
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
