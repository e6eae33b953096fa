"""Polling as real time's safety net: one item whichever path sees it first, reconciliation
counts only what push missed, and polls slow down to the reconciliation pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from twitter_channel.accounts import health
from twitter_channel.intake import polling, schedule
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.realtime import intake
from twitter_channel.realtime.stream_consumer import backfill_minutes, backoff_seconds
from twitter_channel.x.types import RateLimit

from .intake_helpers import BRAND_ID, FakeX, tweet, user
from .realtime_helpers import mention_event

ALICE = user("111", "alice")


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                                   # before the helper's posts (2026-11-20): they count as missed
                                   intake_mode="webhook", realtime_since=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def x():
    fake = FakeX()
    fake.add_user(ALICE["id"], "alice")
    return fake


def push(post):
    import json

    intake.record_event(json.dumps(mention_event(post, users=[ALICE])), "webhook")
    return intake.process_pending()


def missed_later(account) -> int:
    """What counts as missed by push once it has had its grace to bring the items."""
    return health.missed_by_push(account, now=timezone.now() + health.PUSH_GRACE + timedelta(seconds=1))


def poll(x, account):
    return polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)


def test_poll_after_push_stores_nothing_and_counts_nothing(x, account):
    post = tweet("@AcmeHelp hi", ALICE["id"])
    x.mentions.append(post)
    push(post)

    assert poll(x, account).stored == 0

    assert missed_later(account) == 0 and IncomingItem.objects.count() == 1


def test_items_a_poll_stores_first_count_as_missed_once_push_had_its_minute(x, account):
    x.mentions += [tweet("@AcmeHelp one", ALICE["id"]), tweet("@AcmeHelp two", ALICE["id"])]

    assert poll(x, account).stored == 2

    assert health.missed_by_push(account) == 0  # their events may be in flight
    assert missed_later(account) == 2


def test_push_after_poll_is_a_duplicate_and_was_not_missed_after_all(x, account):
    post = tweet("@AcmeHelp hi", ALICE["id"])
    x.mentions.append(post)
    poll(x, account)

    push(post)

    assert IncomingItem.objects.count() == 1
    assert missed_later(account) == 0


def test_items_from_before_real_time_are_not_counted(x, account):
    account.realtime_since = datetime(2026, 12, 1, tzinfo=UTC)  # after the helper's posts (2026-11-20)
    account.save()
    x.mentions.append(tweet("@AcmeHelp old news", ALICE["id"]))

    poll(x, account)

    assert missed_later(account) == 0


def test_polling_only_accounts_count_nothing(x, account):
    XAccount.objects.filter(pk=account.pk).update(intake_mode="polling")
    x.mentions.append(tweet("@AcmeHelp hi", ALICE["id"]))

    poll(x, account)

    assert missed_later(account) == 0


def test_real_time_accounts_poll_at_the_reconciliation_pace(account, settings):
    settings.X_REALTIME_RECONCILE_SECONDS = 120
    now = timezone.now()
    plenty = RateLimit(limit=300, remaining=299, reset_at=now + timedelta(minutes=15))

    assert schedule.next_poll_after_success(plenty, now, account=account) == now + timedelta(seconds=120)
    account.intake_mode = "polling"
    assert schedule.next_poll_after_success(plenty, now, account=account) < now + timedelta(seconds=10)


def test_reconciliation_still_waits_for_a_spent_budget(account, settings):
    settings.X_REALTIME_RECONCILE_SECONDS = 120
    now = timezone.now()
    spent = RateLimit(limit=15, remaining=1, reset_at=now + timedelta(minutes=10))

    assert schedule.next_poll_after_success(spent, now, account=account) > now + timedelta(minutes=10)


@pytest.mark.parametrize(("gap", "minutes"), [(None, 0), (0.1, 1), (59, 1), (61, 2), (299, 5), (3600, 5)])
def test_backfill_covers_the_gap_within_xs_five_minutes(gap, minutes):
    assert backfill_minutes(gap) == minutes


def test_reconnect_backoff_grows_and_is_capped():
    import random

    rng = random.Random(1)
    waits = [backoff_seconds(n, base=1, cap=60, rng=rng) for n in range(1, 10)]
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2 and all(w <= 60 for w in waits)
    assert waits[-1] >= 30
