"""Polling stores every item exactly once and moves each stream's cursor with the items."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from twitter_channel.intake import polling
from twitter_channel.models import IncomingItem, StreamCursor, XAccount
from twitter_channel.x.types import XRateLimited, XTransientError

from .intake_helpers import BRAND_ID, FakeX, dm, tweet

ALICE = "111"


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok")


@pytest.fixture
def x():
    fake = FakeX(page_size=5)
    fake.add_user(ALICE, "alice")
    return fake


def poll(x, account, stream="mentions"):
    return polling.poll_stream(account.pk, stream, client_factory=x.client_for)


def cursor(account, stream="mentions"):
    return StreamCursor.objects.get(account=account, stream=stream)


def test_second_poll_does_not_duplicate(x, account):
    x.mentions += [tweet(f"@AcmeHelp {i}", ALICE) for i in range(3)]
    assert poll(x, account).stored == 3
    assert poll(x, account).stored == 0
    assert IncomingItem.objects.count() == 3


def test_mentions_walk_every_page_since_the_last_poll(x, account):
    x.mentions.append(tweet("@AcmeHelp first", ALICE))
    poll(x, account)
    x.mentions += [tweet(f"@AcmeHelp {i}", ALICE) for i in range(12)]
    result = poll(x, account)
    assert (result.pages, result.stored) == (3, 12)
    assert cursor(account).since_id == max(x.mentions, key=lambda t: int(t["id"]))["id"]
    # The second poll asked X only for what is newer than the first one saw.
    assert x.calls[1] == ("mentions", {"since_id": x.mentions[0]["id"], "pagination_token": None})


def test_first_poll_reads_only_recent_history(x, account, settings):
    settings.X_FIRST_POLL_MAX_PAGES = 1
    x.mentions += [tweet(f"@AcmeHelp {i}", ALICE) for i in range(12)]
    assert poll(x, account).stored == 5


def test_items_are_stored_oldest_first(x, account):
    x.mentions += [tweet(f"@AcmeHelp {i}", ALICE) for i in range(4)]
    poll(x, account)
    texts = list(IncomingItem.objects.order_by("pk").values_list("text", flat=True))
    assert texts == [f"@AcmeHelp {i}" for i in range(4)]


def test_dm_walk_stops_at_the_last_event_seen(x, account):
    conv = f"{ALICE}-{BRAND_ID}"
    x.dm_events += [dm(f"m{i}", ALICE, conv) for i in range(7)]
    assert poll(x, account, "dms").stored == 5  # first poll: one page
    x.dm_events += [dm(f"n{i}", ALICE, conv) for i in range(2)]
    result = poll(x, account, "dms")
    assert (result.pages, result.stored) == (1, 2)
    assert cursor(account, "dms").last_seen_id == x.dm_events[-1]["id"]


def test_like_walk_stops_at_a_post_already_seen(x, account):
    x.likes = [tweet(f"old {i}", ALICE, mentions=()) for i in range(3)]
    poll(x, account, "likes")
    x.likes = [tweet(f"new {i}", ALICE, mentions=()) for i in range(6)] + x.likes
    result = poll(x, account, "likes")
    assert (result.pages, result.stored) == (2, 6)
    assert poll(x, account, "likes").stored == 0


def test_unliking_the_newest_like_does_not_rewalk_everything(x, account):
    x.likes = [tweet(f"old {i}", ALICE, mentions=()) for i in range(4)]
    poll(x, account, "likes")
    x.likes.pop(0)  # unliked
    x.calls.clear()
    assert poll(x, account, "likes").stored == 0
    assert len(x.calls) == 1


def test_cursor_does_not_move_when_storing_fails(x, account, monkeypatch):
    x.mentions.append(tweet("@AcmeHelp hi", ALICE))

    def broken(rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(polling, "store_items", broken)
    with pytest.raises(RuntimeError):
        poll(x, account)
    assert cursor(account).since_id == ""


def test_items_are_not_stored_when_the_cursor_cannot_move(x, account, monkeypatch):
    x.mentions.append(tweet("@AcmeHelp hi", ALICE))
    monkeypatch.setattr(polling, "_advance", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        poll(x, account)
    assert IncomingItem.objects.count() == 0


def test_rate_limit_mid_walk_keeps_fetched_items_but_not_the_cursor(x, account):
    x.mentions.append(tweet("@AcmeHelp first", ALICE))
    poll(x, account)
    since = cursor(account).since_id
    x.mentions += [tweet(f"@AcmeHelp {i}", ALICE) for i in range(8)]
    reset = timezone.now() + timedelta(minutes=7)

    real = x.get_mentions
    calls = {"n": 0}

    def second_page_limited(user_id, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise XRateLimited("Too Many Requests", reset_at=reset)
        return real(user_id, **kw)

    x.get_mentions = second_page_limited
    result = poll(x, account)
    assert result.outcome == "rate_limited"
    assert IncomingItem.objects.count() == 6  # the first page of the new ones is kept
    c = cursor(account)
    assert c.since_id == since
    assert c.next_poll_at >= reset
    x.get_mentions = real
    assert poll(x, account).stored == 3
    assert IncomingItem.objects.count() == 9


def test_unique_constraint_holds_even_without_the_lock(x, account):
    from twitter_channel.intake.store import items_from_page, store_items

    x.mentions.append(tweet("@AcmeHelp hi", ALICE))
    page = x.get_mentions(BRAND_ID)
    rows = items_from_page(account, "mentions", page)
    store_items(rows)
    # A racing poll that checked before our insert: bulk insert simply skips the conflict.
    IncomingItem.objects.bulk_create(items_from_page(account, "mentions", page), ignore_conflicts=True)
    assert IncomingItem.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_polls_of_one_stream_do_not_overlap():
    account = XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok")
    x = FakeX()
    x.add_user(ALICE, "alice")
    x.mentions += [tweet(f"@AcmeHelp {i}", ALICE) for i in range(3)]
    inside, release = threading.Event(), threading.Event()
    real = x.get_mentions

    def slow(user_id, **kw):
        inside.set()
        release.wait(10)
        return real(user_id, **kw)

    slow_x = FakeX()
    slow_x.get_mentions = slow
    results = {}

    def first():
        try:
            results["first"] = polling.poll_stream(account.pk, "mentions", client_factory=slow_x.client_for)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(10)
    results["second"] = polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    release.set()
    thread.join(10)
    assert results["second"].outcome == "busy"
    assert results["first"].stored == 3
    assert IncomingItem.objects.count() == 3


def test_paused_account_is_not_polled(x, account):
    account.needs_reconnect = True
    account.save()
    assert poll(x, account).outcome == "paused"
    assert x.calls == []


def test_server_error_is_recorded_on_the_stream(x, account):
    x.errors["mentions"].append(XTransientError("Service Unavailable", status=503))
    result = poll(x, account)
    assert result.outcome == "failed"
    c = cursor(account)
    assert c.consecutive_failures == 1 and "unavailable" in c.last_error
    assert poll(x, account).outcome == "ok"
    assert cursor(account).consecutive_failures == 0
