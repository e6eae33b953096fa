"""Processing pushed events in batches: a burst of events costs a few queries per batch, not
per event; one event that cannot be read never holds up the others; a lookup at X that fails
leaves its event for later, and not forever."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets.models import Ticket
from twitter_channel.models import ActivityEvent, IncomingItem, XAccount
from twitter_channel.realtime import intake, tasks
from twitter_channel.x.types import XNotFound, XTransientError

from .intake_helpers import BRAND_ID, dm, tweet, user
from .realtime_helpers import dm_event, like_event, mention_event

ALICE = user("111", "alice", "Alice A")


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                                   intake_mode=XAccount.IntakeMode.WEBHOOK)


def record(body: dict) -> ActivityEvent:
    """Record an event as the webhook does, without processing it yet."""
    return intake.record_event(json.dumps(body), ActivityEvent.Source.WEBHOOK)


def mentions(n: int) -> list[ActivityEvent]:
    return [record(mention_event(tweet(f"@AcmeHelp order {i} is late", ALICE["id"]), users=[ALICE]))
            for i in range(n)]


class LookupFails:
    """An X client whose post lookup raises the given error."""

    def __init__(self, error: Exception):
        self.error = error

    def __call__(self, account):
        return self

    def get_tweets(self, ids):
        raise self.error


def storing_queries(monkeypatch, events: int) -> int:
    monkeypatch.setattr(intake, "convert_pending", lambda account_id, time_budget=None: None)  # storing only
    mentions(events)
    with CaptureQueriesContext(connection) as queries:
        intake.process_pending()
    return len(queries)


def test_a_burst_of_events_is_stored_with_as_many_queries_as_a_few(account, monkeypatch):
    few = storing_queries(monkeypatch, 3)
    ActivityEvent.objects.all().delete()

    many = storing_queries(monkeypatch, 60)

    assert many == few
    assert IncomingItem.objects.filter(state="new").count() == 63


def test_a_burst_becomes_one_ticket_per_mention(account):
    events = mentions(25)

    stats = intake.process_pending()

    assert (stats.processed, stats.items_stored) == (25, 25)
    assert Ticket.objects.count() == 25
    assert set(ActivityEvent.objects.values_list("state", "items_stored")) == {("processed", 1)}
    assert not ActivityEvent.objects.filter(pk__in=[e.pk for e in events], account__isnull=True).exists()


def test_the_same_post_twice_in_one_batch_is_one_item_and_counted_once(account):
    post = tweet("@AcmeHelp twice", ALICE["id"])
    record(mention_event(post, users=[ALICE]))
    record(mention_event(post, users=[ALICE]))  # another event id: X sent it again

    intake.process_pending()

    assert IncomingItem.objects.count() == 1 and Ticket.objects.count() == 1
    assert sorted(ActivityEvent.objects.values_list("items_stored", flat=True)) == [0, 1]


def test_events_of_every_kind_in_one_batch(account):
    record(mention_event(tweet("@AcmeHelp hello", ALICE["id"]), users=[ALICE]))
    record(like_event(tweet("great brand", ALICE["id"], mentions=()), users=[ALICE]))
    record(dm_event(dm("hi in private", ALICE["id"], f"{ALICE['id']}-{BRAND_ID}"), users=[ALICE]))

    intake.process_pending()

    assert sorted(Ticket.objects.values_list("channel", flat=True)) == ["x", "x_dm", "x_like"]


def test_an_event_that_breaks_processing_is_kept_failed_and_the_batch_goes_on(account, monkeypatch):
    good = mentions(2)
    bad = record(mention_event(tweet("@AcmeHelp boom", ALICE["id"]), users=[ALICE]))
    real_rows_for = intake.rows_for

    def rows_for(account, envelope, **kw):
        if envelope.event_id == bad.event_id:
            raise ValueError("unexpected shape")
        return real_rows_for(account, envelope, **kw)

    monkeypatch.setattr(intake, "rows_for", rows_for)

    stats = intake.process_pending()

    bad.refresh_from_db()
    assert (bad.state, bad.detail) == ("failed", "Could not process: ValueError: unexpected shape")
    assert (stats.processed, stats.failed) == (2, 1)
    assert ActivityEvent.objects.filter(pk__in=[e.pk for e in good], state="processed").count() == 2


def test_a_failed_lookup_leaves_the_event_new_for_the_sweeper_and_the_rest_go_on(account):
    mentions(1)
    like = record(like_event(tweet("nice", ALICE["id"], mentions=()), users=[ALICE], include_post=False))

    stats = intake.process_pending(client_factory=LookupFails(XTransientError("503 Service Unavailable")))

    like.refresh_from_db()
    assert (like.state, like.detail) == ("new", "X lookup failed: 503 Service Unavailable")
    assert (stats.processed, stats.waiting) == (1, 1)
    assert Ticket.objects.count() == 1


def test_a_lookup_failing_for_a_day_is_given_up(account):
    like = record(like_event(tweet("nice", ALICE["id"], mentions=()), users=[ALICE], include_post=False))
    ActivityEvent.objects.filter(pk=like.pk).update(received_at=timezone.now() - timedelta(days=1, minutes=1))

    intake.process_pending(client_factory=LookupFails(XTransientError("503 Service Unavailable")))

    like.refresh_from_db()
    assert like.state == "failed"
    assert like.detail.startswith("X lookup failed: 503 Service Unavailable (still failing after 1 day")


def test_a_like_of_a_post_deleted_since_is_ignored_not_retried(account):
    like = record(like_event(tweet("gone soon", ALICE["id"], mentions=()), users=[ALICE], include_post=False))

    intake.process_pending(client_factory=LookupFails(XNotFound("Not Found")))

    like.refresh_from_db()
    assert like.state == "ignored" and "no longer exists" in like.detail


def test_the_task_of_an_event_a_batch_already_took_does_nothing(account):
    first, second = mentions(2)
    tasks.process_activity_event(first.pk)  # its batch takes both

    assert tasks.process_activity_event(second.pk) is None
    assert Ticket.objects.count() == 2


def test_the_sweeper_queues_one_task_for_all_stale_events(account, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.process_activity_event, "delay", lambda *a: queued.append(a))
    events = mentions(3)
    ActivityEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        received_at=timezone.now() - timedelta(minutes=5))

    assert tasks.sweep_activity_events() == 3
    assert queued == [()]
