"""Per-endpoint, per-user (or per-app) 15-minute rate-limit windows with X's headers.

A window opens at a user's first request to an endpoint and closes 15 minutes
later, on the whole second its x-rate-limit-reset names (X's behaviour), measured on the sandbox clock so tests can jump past a reset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .clock import Clock

WINDOW_SECONDS = 15 * 60
UNLIMITED = 1_000_000

# X's published per-user-token limits per 15 minutes (shared/x-api/README.md).
X_LIMITS: dict[str, int] = {
    "GET /2/users/me": 75,
    "GET /2/users/:id": 900,
    "GET /2/users/by/username/:username": 900,
    "GET /2/users/:id/mentions": 300,
    "GET /2/users/:id/liked_tweets": 75,
    "GET /2/dm_events": 15,
    "POST /2/dm_conversations/messages": 15,
    "GET /2/tweets/:id": 900,
    "GET /2/tweets": 5000,
    "POST /2/tweets": 100,
    "DELETE /2/tweets/:id": 50,
}
# The X Activity API's limits, per app per 15 minutes (a user's token, where a route takes one,
# counts against that user instead). X publishes only the stream's: 450 requests and 2 open
# connections per app (shared/x-api/README.md "Limits"; the connections are counted in
# activity.MAX_STREAMS). For webhooks, subscriptions and replay X publishes none: the sandbox's
# own choice is the enterprise Account Activity API's table for the same operations under their
# older paths (docs.x.com "Rate limits: Enterprise"): webhooks 15, subscriptions 500 (listing
# 50), replay 5.
ACTIVITY_LIMITS: dict[str, int] = {
    "GET /2/activity/stream": 450,
    "GET /2/webhooks": 15,
    "POST /2/webhooks": 15,
    "PUT /2/webhooks/:webhook_id": 15,
    "DELETE /2/webhooks/:webhook_id": 15,
    "POST /2/webhooks/replay": 5,
    "POST /2/activity/subscriptions": 500,
    "GET /2/activity/subscriptions": 50,
    "DELETE /2/activity/subscriptions": 500,
    "DELETE /2/activity/subscriptions/:subscription_id": 500,
    "PUT /2/activity/subscriptions/:subscription_id": 500,
}
# Batch compliance jobs (xsandbox/compliance.py): 150 per 15 minutes per app, each.
COMPLIANCE_LIMITS: dict[str, int] = {
    "POST /2/compliance/jobs": 150,
    "GET /2/compliance/jobs": 150,
    "GET /2/compliance/jobs/:id": 150,
}
APP_KEY = "app"  # the window key of requests made with the app's bearer token
LIMITS = {**X_LIMITS, **ACTIVITY_LIMITS, **COMPLIANCE_LIMITS}
TIGHT_LIMIT = 3
PROFILES = ("x", "tight", "unlimited")

# The three DM-event reads share one budget on X, and so do the two DM sends.
BUCKETS: dict[str, str] = {
    "GET /2/dm_conversations/:id/dm_events": "GET /2/dm_events",
    "GET /2/dm_conversations/with/:participant_id/dm_events": "GET /2/dm_events",
    "POST /2/dm_conversations/with/:participant_id/messages": "POST /2/dm_conversations/messages",
    "POST /2/dm_conversations/:dm_conversation_id/messages": "POST /2/dm_conversations/messages",
}


def bucket_of(endpoint: str) -> str:
    return BUCKETS.get(endpoint, endpoint)


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class RateLimiter:
    def __init__(self, clock: Clock, profile: str = "x") -> None:
        self.clock = clock
        self.set_profile(profile)

    def set_profile(self, profile: str) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown rate-limit profile {profile!r}; one of {PROFILES}")
        self.profile = profile
        self.overrides: dict[str, int] = {}
        self.windows: dict[tuple[str, str], list[float]] = {}  # (bucket, user) -> [reset_at, used]

    def limit_for(self, bucket: str) -> int:
        if bucket in self.overrides:
            return self.overrides[bucket]
        if self.profile == "unlimited":
            return UNLIMITED
        if self.profile == "tight":
            return TIGHT_LIMIT
        return LIMITS.get(bucket, 900)

    def set_limit(self, endpoint: str, limit: int) -> None:
        self.overrides[bucket_of(endpoint)] = limit

    def reset_windows(self) -> None:
        self.windows.clear()

    def hit(self, endpoint: str, user_key: str) -> Verdict:
        bucket = bucket_of(endpoint)
        limit = self.limit_for(bucket)
        now = self.clock.now()
        window = self.windows.get((bucket, user_key))
        if window is None or now >= window[0]:
            # The window ends on a whole second, the one x-rate-limit-reset announces: rounding
            # a fractional end up would promise a reset more than 15 minutes away (twarc reads
            # that as clock skew), rounding it down would answer 429 after the announced reset.
            window = [math.floor(now) + WINDOW_SECONDS, 0]
            self.windows[(bucket, user_key)] = window
        reset = int(window[0])
        if window[1] >= limit:
            return Verdict(False, limit, 0, reset)
        window[1] += 1
        return Verdict(True, limit, int(limit - window[1]), reset)

    def describe(self) -> dict:
        now = self.clock.now()
        names = sorted(set(LIMITS) | set(self.overrides))
        return {
            "profile": self.profile,
            "limits": {name: self.limit_for(name) for name in names},
            "overrides": dict(self.overrides),
            "windows": [
                {"bucket": b, "user_id": u, "used": int(w[1]), "reset": int(w[0])}
                for (b, u), w in self.windows.items() if now < w[0]
            ],
        }
