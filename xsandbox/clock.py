"""Settable clock and snowflake id generator.

Everything time-dependent in the sandbox (ids, created_at, token expiry,
rate-limit windows) reads this clock, so tests can move time instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

# X's snowflake epoch (ms). Ids built from it are 19 digits for any date after 2013.
TWEPOCH_MS = 1288834974657


class Clock:
    """Real time plus an offset, or a frozen instant."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at
        return time.time() + self.offset

    def set(self, when: float, frozen: bool | None = None) -> None:
        if frozen is None:
            frozen = self.frozen_at is not None
        if frozen:
            self.frozen_at = when
        else:
            self.frozen_at = None
            self.offset = when - time.time()

    def advance(self, seconds: float) -> None:
        if self.frozen_at is not None:
            self.frozen_at += seconds
        else:
            self.offset += seconds

    def freeze(self, frozen: bool) -> None:
        self.set(self.now(), frozen=frozen)

    def reset(self) -> None:
        self.offset = 0.0
        self.frozen_at = None

    def describe(self) -> dict:
        now = self.now()
        return {"now": format_time(now), "unix": now, "frozen": self.frozen_at is not None}


def format_time(ts: float) -> str:
    """X's timestamp format: millisecond precision, always 'Z'."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(value: str | float | int) -> float:
    """Accept unix seconds or RFC 3339 (with or without fraction / 'Z')."""
    if isinstance(value, (int, float)):
        return float(value)
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return float(text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class SnowflakeIds:
    """19-digit ids that grow with the (sandbox) time they were made at.

    Uniqueness is kept even when scenario items are back-dated or the clock is
    moved backwards: a colliding id is bumped by one sequence step.
    """

    def __init__(self) -> None:
        self.used: set[int] = set()

    def make(self, ts: float) -> str:
        ms = max(int(ts * 1000) - TWEPOCH_MS, 1)
        candidate = ms << 22
        while candidate in self.used:
            candidate += 1
        self.used.add(candidate)
        return str(candidate)

    def reserve(self, value: str) -> None:
        if value.isdigit():
            self.used.add(int(value))

    def clear(self) -> None:
        self.used.clear()


def snowflake_time(id_: str) -> float:
    """Creation time encoded in a snowflake id (seconds)."""
    return ((int(id_) >> 22) + TWEPOCH_MS) / 1000.0
