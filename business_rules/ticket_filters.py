"""Conditions as SQL: the tickets a rule matches, found by the database through its indexes.

Triggers check one ticket in memory (`conditions.compile_condition`). Automations and SLA
policies ask the opposite question, which of 100,000 tickets match, so the same condition
rows compile here to `Q` objects over indexed columns and id subqueries (tags, requester
identities), never to a scan in Python. Both compilers must agree;
`tests/test_ticket_filters.py` holds them to it field by field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q

from tickets.models import Identity, Ticket

from .conditions import FIELDS, STATUS_ORDER, TIME_COLUMNS, split_words, typed

TicketTags = Ticket.tags.through


def conditions_q(rows: Iterable, now: datetime) -> Q | None:
    """ALL rows and, if there are "any" rows, at least one of them; None when there are no
    rows at all (a rule without conditions matches nothing)."""
    all_q, any_q = Q(), Q()
    has_all = has_any = False
    for row in rows:
        q = condition_q(row.field, row.operator, row.value, now)
        if row.kind == "any":
            any_q |= q
            has_any = True
        else:
            all_q &= q
            has_all = True
    if not has_all and not has_any:
        return None
    return all_q & any_q if has_any else all_q


def condition_q(field_name: str, operator: str, value: str, now: datetime) -> Q:
    field = FIELDS[field_name]
    if field_name in TIME_COLUMNS:
        return time_q(field_name, operator, value, now)
    if field.state_key is not None:
        return field_q(field, operator, value)
    if field_name == "tags":
        words = split_words(value)
        if operator == "contains_all":
            q = Q()
            for word in words:
                q &= Q(pk__in=_tagged(word))
            return q
        any_q = Q(pk__in=TicketTags.objects.filter(tag__name__in=words).values("ticket_id"))
        return any_q if operator == "contains_any" else ~any_q
    if field_name == "requester_handle":
        q = _requester_with(kind=Identity.Kind.X, handle__iexact=value)
        return q if operator == "is" else ~q
    if field_name == "requester_email_domain":
        # Confirmed addresses only, as the trigger engine reads them (`TicketState.email_domains`).
        q = _requester_with(kind=Identity.Kind.EMAIL, value__iendswith="@" + value, confirmed_at__isnull=False)
        return q if operator == "is" else ~q
    if field_name == "requester_followers":
        enough = _requester_with(kind=Identity.Kind.X, followers__gte=int(value))
        if operator == "at_least":
            return enough
        # The largest known count is under the limit: some count is known, none reaches it.
        return _requester_with(kind=Identity.Kind.X, followers__isnull=False) & ~enough
    if field_name == "requester_verified":
        q = _requester_with(kind=Identity.Kind.X, verified=True)
        return q if value == "true" else ~q
    if field_name == "sla_breached":
        q = Q(next_breach_at__lte=now)
        return q if value == "true" else ~q
    raise ValueError(f"{field.label} cannot be asked of stored tickets")


def field_q(field, operator: str, raw: str) -> Q:
    column = field.state_key
    value = typed(field, raw)
    if operator in ("is", "is_not"):
        q = Q(**{f"{column}__isnull": True}) if value is None else Q(**{column: value})
        return q if operator == "is" else ~q
    if field.name == "status":
        rank = STATUS_ORDER.index(value)
        wanted = STATUS_ORDER[:rank] if operator == "less_than" else STATUS_ORDER[rank + 1 :]
        return Q(status__in=wanted)
    lookup = "lt" if operator == "less_than" else "gt"
    return Q(**{f"{column}__{lookup}": value})


def time_q(field_name: str, operator: str, value: str, now: datetime) -> Q:
    """Hours since (or until) a moment, as a comparison of its column with a constant, so
    the (status, column) and next_breach_at indexes answer it."""
    column = TIME_COLUMNS[field_name]
    span = timedelta(hours=float(value))
    if field_name == "sla_hours_until_breach":
        if operator == "less_than":
            return Q(next_breach_at__gt=now, next_breach_at__lt=now + span)
        return Q(next_breach_at__gt=now + span)
    if field_name == "sla_hours_since_breach":
        if operator == "less_than":
            return Q(next_breach_at__gt=now - span, next_breach_at__lte=now)
        return Q(next_breach_at__lt=now - span)
    if operator == "greater_than":
        return Q(**{f"{column}__lt": now - span})
    return Q(**{f"{column}__gt": now - span})


def _tagged(word: str):
    return TicketTags.objects.filter(tag__name=word).values("ticket_id")


def _requester_with(**identity) -> Q:
    return Q(requester_id__in=Identity.objects.filter(**identity).values("requester_id"))
