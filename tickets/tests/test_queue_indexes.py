"""The queue's expression index only helps while the sort's SQL matches it exactly; these
tests fail if STATUS_RANK or the sort change and the index (migration 0004) is left behind."""

import pytest
from django.db import connection

from tickets.filters import apply_sort
from tickets.models import Ticket

from .factories import TicketFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostgreSQL only"),
]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A test table has a handful of rows, where a sequential scan always wins; forbid it
        # so the plan shows whether the index *can* serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_status_sort_page_is_read_off_the_status_rank_index():
    TicketFactory.create_batch(3)
    ids = apply_sort(Ticket.objects.all(), "status").values_list("pk", flat=True)[:50]
    assert "ticket_status_rank_idx" in plan(ids)


def test_status_rank_index_is_not_claimed_by_other_sorts():
    TicketFactory.create_batch(3)
    ids = apply_sort(Ticket.objects.all(), "-updated").values_list("pk", flat=True)[:50]
    assert "ticket_status_rank_idx" not in plan(ids)
