"""An index for the queue's "Status, new first" sort, chosen by measurement (bench/pages.py).

The sort orders by a CASE that ranks statuses in workflow order (`filters.STATUS_RANK`),
which no column index can serve: every page sorted all 100,000 tickets (34 ms of SQL at
100k tickets). An index on the same expression, then (updated_at DESC, id DESC) as the sort
has it, lets the page stop after 50 rows (under 1 ms). The expression must compile to what
Django writes for STATUS_RANK, or the planner ignores the index; a test checks that it is
used. PostgreSQL only, built CONCURRENTLY like 0003's indexes (hence `atomic = False`).
"Status, closed first" (rank DESC, updated_at DESC) is not this index backwards and still sorts.
"""

from importlib import import_module

from django.db import migrations

# 0003's module name starts with a digit, hence import_module.
RunSQLOnPostgres = import_module("tickets.migrations.0003_queue_indexes").RunSQLOnPostgres

# Written out, not built from STATUS_RANK: a migration must not change when the code does.
STATUS_RANK_SQL = (
    "CASE WHEN (status = 'new') THEN 0 WHEN (status = 'open') THEN 1 WHEN (status = 'pending') THEN 2 "
    "WHEN (status = 'on_hold') THEN 3 WHEN (status = 'solved') THEN 4 WHEN (status = 'closed') THEN 5 "
    "ELSE NULL END"
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tickets", "0003_queue_indexes"),
    ]

    operations = [
        RunSQLOnPostgres(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_status_rank_idx "
            f"ON tickets_ticket (({STATUS_RANK_SQL}), updated_at DESC, id DESC)",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS ticket_status_rank_idx",
        ),
    ]
