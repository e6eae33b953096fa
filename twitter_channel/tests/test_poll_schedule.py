"""Polls are paced by X's rate-limit budget, wait out 429s, back off on 5xx, and a 401
stops only the account it concerns."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from twitter_channel import tasks
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.intake import polling, schedule
from twitter_channel.models import StreamCursor, XAccount
from twitter_channel.x.types import OAuthTokens, RateLimit, XAuthError, XRateLimited, XTransientError

from .intake_helpers import BRAND_ID, FakeX, tweet

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _bounds(settings):
    settings.X_POLL_MIN_INTERVAL_SECONDS = 2
    settings.X_POLL_MAX_INTERVAL_SECONDS = 300
    settings.X_POLL_BACKOFF_BASE_SECONDS = 5
    settings.X_POLL_BACKOFF_MAX_SECONDS = 900


def budget(remaining, reset_in, limit=300):
    return RateLimit(limit=limit, remaining=remaining, reset_at=NOW + timedelta(seconds=reset_in))


def interval(limit):
    return (schedule.next_poll_after_success(limit, NOW) - NOW).total_seconds()


def test_full_mentions_budget_allows_a_poll_about_every_three_seconds():
    assert interval(budget(300, 900)) == pytest.approx(900 / 299, rel=0.01)


def test_dm_budget_of_fifteen_spreads_polls_over_the_window():
    assert interval(budget(15, 900, limit=15)) == pytest.approx(900 / 14, rel=0.01)


def test_budget_is_spread_over_what_is_left_of_the_window():
    assert interval(budget(10, 100)) == pytest.approx(100 / 9, rel=0.01)


def test_interval_never_goes_below_the_floor(settings):
    settings.X_POLL_MIN_INTERVAL_SECONDS = 7
    assert interval(budget(10_000, 900)) == 7


def test_spent_budget_waits_for_the_reset():
    assert schedule.next_poll_after_success(budget(1, 400), NOW) == NOW + timedelta(seconds=401)


def test_without_headers_the_floor_applies():
    assert interval(None) == 2


def test_429_waits_until_reset():
    reset = NOW + timedelta(minutes=9)
    assert schedule.next_poll_after_rate_limited(reset, NOW) == reset + timedelta(seconds=1)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(1)
    delays = [(schedule.backoff(n, NOW, rng=rng) - NOW).total_seconds() for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(900, 5 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] > delays[0] * 20


# --- polls with errors ------------------------------------------------------------------------


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok", refresh_token="ref")


@pytest.fixture
def x():
    fake = FakeX()
    fake.add_user("111", "alice")
    return fake


def cursor(account, stream="mentions"):
    return StreamCursor.objects.get(account=account, stream=stream)


def test_successful_poll_schedules_from_the_reported_budget(x, account):
    x.remaining, x.reset_at = 16, timezone.now() + timedelta(seconds=600)
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    c = cursor(account)
    assert (c.rate_limit, c.rate_remaining) == (300, 15)
    wait = (c.next_poll_at - timezone.now()).total_seconds()
    assert 600 / 14 - 2 < wait <= 600 / 14


def test_429_schedules_the_next_poll_after_reset(x, account):
    reset = timezone.now() + timedelta(minutes=12)
    x.errors["mentions"].append(XRateLimited("Too Many Requests", reset_at=reset))
    result = polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    assert result.outcome == "rate_limited"
    c = cursor(account)
    assert c.next_poll_at == reset + timedelta(seconds=1)
    assert c.rate_remaining == 0
    assert c.consecutive_failures == 0  # not a failure: X asked us to wait


def test_5xx_backs_off_more_each_time(x, account):
    waits = []
    for _ in range(4):
        x.errors["mentions"].append(XTransientError("Service Unavailable", status=503))
        polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
        waits.append((cursor(account).next_poll_at - timezone.now()).total_seconds())
    assert cursor(account).consecutive_failures == 4
    assert waits[3] > waits[0]
    assert 20 <= waits[3] <= 40


def test_401_refreshes_the_token_once_and_retries(x, account, monkeypatch):
    from twitter_channel.x import oauth as x_oauth

    refreshed = []

    def refresh(token):
        refreshed.append(token)
        return OAuthTokens("tok-2", "ref-2", timezone.now() + timedelta(hours=2), ("tweet.read",))

    monkeypatch.setattr(x_oauth, "refresh", refresh)
    x.errors["mentions"].append(XAuthError("Unauthorized", status=401))
    x.mentions.append(tweet("@AcmeHelp hi", "111"))
    result = polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    assert result.outcome == "ok" and result.stored == 1
    assert refreshed == ["ref"]
    account.refresh_from_db()
    assert (account.access_token, account.refresh_token) == ("tok-2", "ref-2")
    assert x.token_used == "tok-2"
    assert not account.needs_reconnect


def test_401_without_refresh_token_marks_reconnect_and_others_keep_polling(x, account):
    account.refresh_token = ""
    account.save()
    other = XAccount.objects.create(user_id="900000000000000002", username="AcmeShop", access_token="t2")
    ensure_cursors(other)
    x.errors["mentions"].append(XAuthError("Unauthorized", status=401))
    result = polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    assert result.outcome == "reconnect"
    account.refresh_from_db()
    assert account.needs_reconnect and "reconnect" in account.last_error
    StreamCursor.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
    claimed = tasks.claim_due_cursors()
    assert {a for a, _ in claimed} == {other.pk}
    assert polling.poll_stream(other.pk, "mentions", client_factory=x.client_for).outcome == "ok"


def test_401_after_refresh_marks_reconnect(x, account, monkeypatch):
    from twitter_channel.x import oauth as x_oauth

    monkeypatch.setattr(x_oauth, "refresh", lambda t: OAuthTokens("tok-2", "ref-2", timezone.now(), ()))
    x.errors["mentions"] += [XAuthError("Unauthorized", status=401), XAuthError("Unauthorized", status=401)]
    assert polling.poll_stream(account.pk, "mentions", client_factory=x.client_for).outcome == "reconnect"
    account.refresh_from_db()
    assert account.needs_reconnect
    assert account.refresh_token == "ref-2"  # the newest refresh token is kept even so


def test_refused_refresh_marks_reconnect(x, account, monkeypatch):
    from twitter_channel.x import oauth as x_oauth

    def refused(token):
        raise XAuthError("invalid_grant")

    monkeypatch.setattr(x_oauth, "refresh", refused)
    x.errors["mentions"].append(XAuthError("Unauthorized", status=401))
    assert polling.poll_stream(account.pk, "mentions", client_factory=x.client_for).outcome == "reconnect"


def test_token_is_refreshed_before_it_expires(x, account, monkeypatch):
    from twitter_channel.x import oauth as x_oauth

    account.token_expires_at = timezone.now() + timedelta(seconds=60)
    account.save()
    monkeypatch.setattr(x_oauth, "refresh",
                        lambda t: OAuthTokens("tok-2", None, timezone.now() + timedelta(hours=2), ()))
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    account.refresh_from_db()
    assert account.access_token == "tok-2"
    assert account.refresh_token == "ref"  # X sent none: the one we have stays
    assert x.token_used == "tok-2"


# --- dispatch -------------------------------------------------------------------------------------


def test_dispatch_claims_each_due_stream_once(account, monkeypatch):
    enqueued = []
    monkeypatch.setattr(tasks.poll_stream, "delay", lambda *a: enqueued.append(a))
    assert tasks.dispatch_polls() == 3
    assert tasks.dispatch_polls() == 0
    assert sorted(enqueued) == [(account.pk, "dms"), (account.pk, "likes"), (account.pk, "mentions")]


def test_dispatch_skips_streams_not_due(account, monkeypatch):
    monkeypatch.setattr(tasks.poll_stream, "delay", lambda *a: None)
    ensure_cursors(account)
    StreamCursor.objects.filter(stream="dms").update(next_poll_at=timezone.now() + timedelta(minutes=1))
    assert tasks.dispatch_polls() == 2


def test_claim_expires_so_a_poll_lost_with_its_worker_is_dispatched_again(account, settings):
    settings.X_POLL_CLAIM_SECONDS = 30
    ensure_cursors(account)
    assert len(tasks.claim_due_cursors()) == 3
    assert tasks.claim_due_cursors(now=timezone.now() + timedelta(seconds=10)) == []
    assert len(tasks.claim_due_cursors(now=timezone.now() + timedelta(seconds=31))) == 3


def test_poll_task_of_a_removed_account_does_nothing(account):
    pk = account.pk
    account.delete()
    assert tasks.poll_stream(pk, "mentions") == f"account {pk} was removed"
