"""Adding to the counters: outside a transaction one query, written without waiting for the
disk, the session's own commits left durable; inside one, part of it (a savepoint)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from monitoring import counters
from monitoring.models import MetricCounter


def value(name: str, **labels: str) -> float:
    return MetricCounter.objects.get(name=name, labels=counters.label_key(**labels)).value


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit')")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_add_is_one_query_and_leaves_commits_durable(django_assert_num_queries):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's asynchronous commit")
    assert synchronous_commit() == "on"
    counters.add("helpdesk_test_total", outcome="accepted")

    with django_assert_num_queries(1):
        counters.add_many({("helpdesk_test_total", counters.label_key(outcome="accepted")): 2,
                           ("helpdesk_test_total", counters.label_key(outcome="refused")): 1})

    assert value("helpdesk_test_total", outcome="accepted") == 3
    assert value("helpdesk_test_total", outcome="refused") == 1
    assert synchronous_commit() == "on"  # SET LOCAL held for the counter's own transaction only


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_an_add_rolls_back_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        counters.add("helpdesk_test_total", outcome="accepted")
        raise RuntimeError("the caller's work failed")

    assert not MetricCounter.objects.filter(name="helpdesk_test_total").exists()
    counters.add("helpdesk_test_total", outcome="accepted")
    assert value("helpdesk_test_total", outcome="accepted") == 1
