"""What X would bill the app for the calls the sandbox answered (pay-per-use, 2026).

X's rules (`shared/x-api/README.md`, "Prices"): reads per item returned (`data` and
`includes`): a post $0.005, a user $0.010, a DM event $0.010, and a user's own mentions and
liked posts read with that user's token are "owned reads" at $0.001; the same item read
again within a UTC day (the sandbox clock's) is billed once, across the whole app; writes per
request: a post $0.015, a post containing a URL $0.200, a DM $0.015; Activity API events:
post events $0.005, like $0.001, `dm.received` $0.010. Failed calls cost nothing.

Kept in memory; the control API reads it (`GET /sandbox/api/billing`) and clears it
(`DELETE`, and with every reset). Amounts are integer micro-dollars, reported as strings.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from .text import URL_RE

PRICES_MICROS = {
    "post_read": 5_000, "owned_read": 1_000, "user_read": 10_000, "dm_event_read": 10_000,
    "post_write": 15_000, "post_url_write": 200_000, "dm_write": 15_000,
    "post_event": 5_000, "like_event": 1_000, "dm_event": 10_000,
}
EVENT_KINDS = {"post.mention.create": "post_event", "post.reply.create": "post_event", "post.create": "post_event",
               "like.create": "like_event", "dm.received": "dm_event"}
OWNED_LISTS = ("GET /2/users/:id/mentions", "GET /2/users/:id/liked_tweets")
POST_READS = ("GET /2/tweets/:id", "GET /2/tweets")
USER_READS = ("GET /2/users/me", "GET /2/users/:id", "GET /2/users/by/username/:username")
DM_WRITES = ("POST /2/dm_conversations/with/:participant_id/messages",
             "POST /2/dm_conversations/:dm_conversation_id/messages")


def utc_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


class Billing:
    def __init__(self, clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()  # events are emitted from delivery threads too
        self.clear()

    def clear(self) -> None:
        # day -> billed item keys; day -> user id -> kind -> [items, micros]
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.days: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(dict))

    # --- counting -----------------------------------------------------------------------
    def answered(self, endpoint_key: str, user_id: str, path_user_id: str | None, request_body: bytes,
                 status: int, response_body: bytes) -> None:
        """One X API response the sandbox sent."""
        if status >= 300:
            return
        if endpoint_key == "POST /2/tweets":
            try:
                text = json.loads(request_body or b"{}").get("text") or ""
            except ValueError:
                text = ""
            self._bill(user_id, "post_url_write" if URL_RE.search(text) else "post_write", None)
            return
        if endpoint_key in DM_WRITES:
            self._bill(user_id, "dm_write", None)
            return
        if not endpoint_key.startswith("GET "):
            return
        if endpoint_key in OWNED_LISTS:
            data_kind, prefix = ("owned_read" if path_user_id == user_id else "post_read"), "post"
        elif endpoint_key in POST_READS:
            data_kind, prefix = "post_read", "post"
        elif endpoint_key in USER_READS:
            data_kind, prefix = "user_read", "user"
        elif "dm_events" in endpoint_key:
            data_kind, prefix = "dm_event_read", "dm"
        else:
            return
        try:
            body = json.loads(response_body)
        except ValueError:
            return
        data = body.get("data")
        for obj in data if isinstance(data, list) else [data] if isinstance(data, dict) else []:
            self._bill(user_id, data_kind, f"{prefix}:{obj['id']}")
        includes = body.get("includes") or {}
        for obj in includes.get("users") or []:
            self._bill(user_id, "user_read", f"user:{obj['id']}")
        for obj in (includes.get("tweets") or []) + (includes.get("posts") or []):
            self._bill(user_id, "post_read", f"post:{obj['id']}")

    def event(self, event_type: str, event_id: str, user_id: str) -> None:
        kind = EVENT_KINDS.get(event_type)
        if kind:
            self._bill(user_id, kind, f"event:{event_id}")

    def _bill(self, user_id: str, kind: str, item: str | None) -> None:
        day = utc_day(self.clock.now())
        with self._lock:
            if item is not None:
                if item in self.seen[day]:
                    return
                self.seen[day].add(item)
            counted = self.days[day][user_id].setdefault(kind, [0, 0])
            counted[0] += 1
            counted[1] += PRICES_MICROS[kind]

    # --- reporting ----------------------------------------------------------------------
    def describe(self, day: str | None = None) -> dict:
        day = day or utc_day(self.clock.now())
        with self._lock:
            users = {uid: dict(kinds) for uid, kinds in self.days.get(day, {}).items()}
        by_user = {}
        for uid, kinds in users.items():
            by_user[uid] = {"kinds": {k: {"items": n, "usd": _usd(m)} for k, (n, m) in sorted(kinds.items())},
                            "total_usd": _usd(sum(m for _, m in kinds.values()))}
        total = sum(m for kinds in users.values() for _, m in kinds.values())
        return {"day": day, "total_usd": _usd(total), "by_user": by_user}


def _usd(micros: int) -> str:
    return str((Decimal(micros) / 1_000_000).quantize(Decimal("0.000001")))
