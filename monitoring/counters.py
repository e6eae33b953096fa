"""Adding to the database-backed counters (`MetricCounter`): one upsert per counter touched.

Why the database and not prometheus-client's in-process registry: the figures are written
by Celery workers on any number of machines and by every gunicorn worker, and read by
whichever web process Prometheus scrapes. prometheus-client's multiprocess mode shares a
directory, i.e. one machine; the database is already shared by all of them. Counters are
bumped per poll, per stored batch and per webhook delivery, never per scrape.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterable

from django.db import DatabaseError, connection, transaction

from .models import MetricCounter

log = logging.getLogger(__name__)

# Seconds from a post or DM on X to its row in the helpdesk.
LAG_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600, 86400)


def label_key(**labels: str) -> str:
    return ",".join(f"{k}={str(v).replace(',', ' ').replace('=', ' ')}" for k, v in sorted(labels.items()))


def parse_labels(key: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in key.split(",") if part)


def add(name: str, amount: float = 1, **labels: str) -> None:
    add_many({(name, label_key(**labels)): amount})


def add_many(amounts: dict[tuple[str, str], float]) -> None:
    """Adds to several counters at once; a failure is logged, never raised (metrics must not
    break the work they count), and stays inside a savepoint."""
    if not amounts:
        return
    table = MetricCounter._meta.db_table
    rows = sorted(amounts.items())  # a fixed order: concurrent upserts never deadlock
    placeholders = ", ".join(["(%s, %s, %s)"] * len(rows))
    params = [v for (name, labels), amount in rows for v in (name, labels, amount)]
    insert = (f"INSERT INTO {table} (name, labels, value) VALUES {placeholders} "
              f"ON CONFLICT (name, labels) DO UPDATE SET value = {table}.value + excluded.value")
    try:
        if _one_round_trip_possible():
            # A counter is not worth waiting for the disk: a crash may lose its last few
            # hundred milliseconds of counts, never other data. Without this, every web
            # process and worker bumping the same row (webhook deliveries, items stored)
            # waits in turn for the others' flushes while it holds that row's lock. The two
            # statements of one query run as one transaction of their own, so SET LOCAL holds
            # for this insert alone, in one round trip instead of four (BEGIN, SET, INSERT,
            # COMMIT): the webhook counts every delivery this way.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF; " + insert, params)
            return
        # Inside a caller's transaction this is a savepoint, and that transaction's commit stays durable.
        own_transaction = not connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if own_transaction and connection.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(insert, params)
    except DatabaseError:
        log.exception("could not add to the metric counters")


def _one_round_trip_possible() -> bool:
    """PostgreSQL, outside any transaction, with client-side parameter binding (Django's
    default), the only binding that takes two statements in one query."""
    return (connection.vendor == "postgresql" and not connection.in_atomic_block and connection.get_autocommit()
            and not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


def observe_lags(name: str, observations: Iterable[tuple[dict[str, str], float]]) -> None:
    """Adds observations (labels, seconds) to a histogram kept as cumulative buckets."""
    amounts: Tally = Tally()
    for labels, seconds in observations:
        seconds = max(seconds, 0.0)
        for bound in LAG_BUCKETS:
            if seconds <= bound:
                amounts[(f"{name}_bucket", label_key(**labels, le=str(bound)))] += 1
        amounts[(f"{name}_bucket", label_key(**labels, le="+Inf"))] += 1
        amounts[(f"{name}_sum", label_key(**labels))] += seconds
        amounts[(f"{name}_count", label_key(**labels))] += 1
    add_many(dict(amounts))


def count_deliveries(view):
    """Counts the POSTs a webhook view answers: accepted (2xx) or refused, with the status."""
    from functools import wraps

    @wraps(view)
    def counted(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method == "POST":
            outcome = "accepted" if response.status_code < 300 else "refused"
            add("helpdesk_x_webhook_deliveries_total", outcome=outcome, status=str(response.status_code))
        return response

    return counted
