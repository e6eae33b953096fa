"""The compliance bench's seeder at a tiny scale, so `python -m bench compliance_job` cannot rot:
it once stopped with an IntegrityError when items gained a NOT NULL column (media) that its
INSERT did not name."""

import pytest
from django.db import connection

from bench.compliance_job import seed
from twitter_channel.models import IncomingItem

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the seeder ends with VACUUM ANALYZE
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the seeder writes with INSERT ... generate_series"),
]


def test_the_seeder_stores_the_mentions_asked_for_with_every_column_filled():
    seed(30)

    items = IncomingItem.objects.order_by("x_id")
    assert items.count() == 30
    first = items.first()
    assert (first.kind, first.x_id, first.state, first.account.username) == (
        "mention", "1000000000000000000", "ignored", "BenchBrand")
    assert first.media == [] and first.urls == [] and first.mentioned_usernames == []


def test_seeding_again_adds_only_what_is_missing():
    seed(10)
    seed(25)

    assert IncomingItem.objects.count() == 25
