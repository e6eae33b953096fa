"""When each stream of each account may be polled next.

X grants a budget of requests per 15-minute window and tells us, on every response, how
much of it is left (`x-rate-limit-remaining`) and when it refills (`x-rate-limit-reset`).
We spread what is left evenly over what remains of the window: as often as the budget
allows, never more often than X_POLL_MIN_INTERVAL_SECONDS, so the steady state never
meets a 429. Nothing here is a constant of X's: a different tier simply sends other headers.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings

from twitter_channel.x.types import RateLimit

# Requests the budget keeps back for other work on the same token (replies look tweets up)
# and for the clock difference between us and X.
RESERVE_REQUESTS = 1
RESET_MARGIN = timedelta(seconds=1)


def seconds(name: str) -> float:
    return float(getattr(settings, name))


def next_poll_after_success(
    rate_limit: RateLimit | None, now: datetime, *, requests_per_poll: int = 1, account=None
) -> datetime:
    """The next poll time that keeps within the budget the headers reported. An account in
    real time (`account.intake_mode`) polls only to reconcile, at X_REALTIME_RECONCILE_SECONDS;
    one whose monthly X spending budget is spent, at its budget's floor (`cost_meter`)."""
    floor = timedelta(seconds=seconds("X_POLL_MIN_INTERVAL_SECONDS"))
    if account is not None:
        from twitter_channel.intake.reconcile import poll_floor_seconds

        floor = timedelta(seconds=poll_floor_seconds(account, floor.total_seconds(),
                                                     seconds("X_REALTIME_RECONCILE_SECONDS")))
        from twitter_channel.costs.meter import budget_poll_floor

        # A spent monthly X budget slows every read of the account to the floor its admin chose.
        spent_floor = budget_poll_floor(account.pk)
        if spent_floor is not None:
            floor = max(floor, timedelta(seconds=spent_floor))
    ceiling = max(timedelta(seconds=seconds("X_POLL_MAX_INTERVAL_SECONDS")), floor)
    if rate_limit is None or rate_limit.remaining is None or rate_limit.reset_at is None:
        return now + floor
    until_reset = rate_limit.reset_at - now
    if until_reset <= timedelta(0):
        # The window has already refilled.
        return now + floor
    usable = rate_limit.remaining - RESERVE_REQUESTS
    if usable < max(requests_per_poll, 1):
        # Spent: wait for the refill.
        return max(rate_limit.reset_at + RESET_MARGIN, now + floor)
    # A poll that needed several pages is likely to again: budget for as many.
    interval = until_reset * max(requests_per_poll, 1) / usable
    return now + min(max(interval, floor), ceiling)


def next_poll_after_rate_limited(reset_at: datetime | None, now: datetime) -> datetime:
    """After a 429: X sends no Retry-After, only the reset time of the window."""
    if reset_at is None or reset_at <= now:
        return now + timedelta(seconds=seconds("X_POLL_RATE_LIMITED_FALLBACK_SECONDS"))
    return reset_at + RESET_MARGIN


def backoff(failures: int, now: datetime, *, rng: random.Random | None = None) -> datetime:
    """After a 5xx or a timeout: exponential, with "full jitter" so that many accounts
    failing together do not come back in lockstep."""
    base = seconds("X_POLL_BACKOFF_BASE_SECONDS")
    cap = seconds("X_POLL_BACKOFF_MAX_SECONDS")
    ceiling = min(cap, base * 2 ** max(failures - 1, 0))
    jittered = (rng or random).uniform(ceiling / 2, ceiling)
    return now + timedelta(seconds=jittered)
