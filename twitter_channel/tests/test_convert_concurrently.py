"""Converters running side by side (several workers, the sweeper) convert each item once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tickets.models import Comment, Ticket
from twitter_channel import tasks
from twitter_channel.intake import conversion, polling
from twitter_channel.models import IncomingItem, XAccount

from .intake_helpers import BRAND_ID, FakeX, tweet


def stored_mentions(n: int) -> XAccount:
    account = XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok")
    x = FakeX()
    for i in range(5):
        x.add_user(str(100 + i), f"fan{i}")
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    root = tweet("@AcmeHelp thread start", "100")
    x.mentions.append(root)
    x.mentions += [tweet(f"@AcmeHelp problem {i}", str(100 + i % 5)) for i in range(n)]
    # Replies to the first post, stored after it: they must land on its ticket whoever converts them.
    x.mentions += [tweet(f"@AcmeHelp reply {i}", "101", reply_to=root["id"], conversation_id=root["id"])
                   for i in range(5)]
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    return account


@pytest.mark.django_db(transaction=True)
def test_parallel_converters_convert_each_item_once():
    account = stored_mentions(150)
    errors = []

    def convert():
        try:
            conversion.convert_pending(account.pk)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # Replies deferred behind a parent another thread held are picked up by the next round.
    conversion.convert_pending(account.pk)
    assert errors == []
    assert not IncomingItem.objects.filter(state="new").exists()
    assert Ticket.objects.count() == 151
    assert Comment.objects.count() == 156
    root_ticket = Ticket.objects.get(subject="thread start")
    assert root_ticket.comments.count() == 6


def test_sweeper_converts_items_a_dead_worker_left_behind(db, settings):
    settings.X_SWEEP_GRACE_SECONDS = 30
    account = stored_mentions(3)
    IncomingItem.objects.update(fetched_at=timezone.now() - timedelta(seconds=10))
    assert tasks.sweep_unconverted() == 0  # still within the grace: the normal path will get them
    IncomingItem.objects.update(fetched_at=timezone.now() - timedelta(seconds=60))
    assert tasks.sweep_unconverted() == 1
    assert not IncomingItem.objects.filter(account=account, state="new").exists()
    assert Ticket.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_converter_prepares_the_authors_of_the_items_it_will_convert_not_those_another_holds(monkeypatch,
                                                                                                 settings):
    from django.db import connections

    from twitter_channel.intake import authors

    account = XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok")
    x = FakeX()
    for i in range(20):
        x.add_user(str(100 + i), f"fan{i}")
    x.mentions += [tweet(f"@AcmeHelp problem {i}", str(100 + i)) for i in range(20)]  # twenty people
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    settings.X_CONVERT_BATCH_SIZE = 10
    looked_up_alone = []
    monkeypatch.setattr(authors, "requester_for_identity", lambda *a: looked_up_alone.append(a))
    held = list(IncomingItem.objects.order_by("id").values_list("pk", flat=True)[:10])
    other = connections.create_connection("default")  # another converter, busy with the first ten
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM twitter_channel_incomingitem WHERE id = ANY(%s) FOR UPDATE", [held])
            stats = conversion.convert_pending(account.pk)
            cursor.execute("ROLLBACK")
    finally:
        other.close()

    assert stats.converted == 10 and looked_up_alone == []
    assert set(IncomingItem.objects.filter(state=IncomingItem.State.NEW).values_list("pk", flat=True)) == set(held)
