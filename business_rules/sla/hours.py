"""Counting time the way a service level does: every hour (calendar hours), or only the
hours a team works (a weekly schedule in its own time zone, minus holidays).

The schedule is read in its own zone day by day, so a working day keeps its local hours
across a daylight-saving change (09:00-17:00 in Paris is 08:00-16:00 UTC in winter and
07:00-15:00 UTC in summer), and each day's opening hours become UTC instants only then.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far ahead to look for opening hours before giving up (a schedule with no hours, or
# a year of holidays): a clock on such a schedule never falls due.
MAX_DAYS = 3 * 366


class CalendarHours:
    """Every hour counts."""

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    def between(self, start: datetime, end: datetime) -> float:
        return max((end - start).total_seconds(), 0.0)


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) in `zone`, closed on `holidays` (local dates).
    An interval ending at 00:00 runs to midnight."""

    zone: ZoneInfo
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The opening periods (UTC) that end after `start`, in order."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(MAX_DAYS):
            if day not in self.holidays:
                for opens, closes in sorted(self.weekly.get(day.weekday(), ())):
                    begin = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
                    end_day = day + timedelta(days=1) if closes == time(0) else day
                    end = datetime.combine(end_day, closes, tzinfo=self.zone).astimezone(UTC)
                    if end > start and end > begin:
                        yield begin, end
            day += timedelta(days=1)

    def add(self, start: datetime, seconds: float) -> datetime | None:
        """The instant `seconds` of opening hours after `start`; None if never."""
        remaining = max(seconds, 0.0)
        for begin, end in self.periods_from(start):
            begin = max(begin, start)
            available = (end - begin).total_seconds()
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= available
        return None

    def between(self, start: datetime, end: datetime) -> float:
        """Seconds of opening hours from `start` to `end`."""
        total = 0.0
        if end <= start:
            return total
        for begin, close in self.periods_from(start):
            if begin >= end:
                break
            total += (min(close, end) - max(begin, start)).total_seconds()
        return total


Calendar = CalendarHours | BusinessHours
