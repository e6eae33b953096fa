"""Counting service-level time in calendar hours and in business hours."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from business_rules.sla.hours import BusinessHours, CalendarHours

PARIS = ZoneInfo("Europe/Paris")
NINE_TO_FIVE = {day: [(time(9), time(17))] for day in range(5)}  # Monday to Friday


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_calendar_hours_count_every_hour():
    start = datetime(2026, 3, 27, 15, tzinfo=UTC)
    assert CalendarHours().add(start, 3600 * 48) == start + timedelta(hours=48)
    assert CalendarHours().between(start, start + timedelta(hours=3)) == 3 * 3600


def test_business_hours_skip_the_weekend_and_follow_the_clock_change():
    # Friday 27 March 2026, 16:00 in Paris (UTC+1); clocks go forward on Sunday 29th.
    hours = BusinessHours(PARIS, NINE_TO_FIVE)
    due = hours.add(paris(2026, 3, 27, 16), 2 * 3600)
    # One hour on Friday, one on Monday from 09:00 local, which is now UTC+2.
    assert due == paris(2026, 3, 30, 10)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_business_hours_between_counts_only_opening_hours():
    hours = BusinessHours(PARIS, NINE_TO_FIVE)
    assert hours.between(paris(2026, 3, 27, 16), paris(2026, 3, 30, 10)) == 2 * 3600
    assert hours.between(paris(2026, 3, 28, 10), paris(2026, 3, 29, 18)) == 0


def test_time_before_opening_starts_counting_at_opening():
    hours = BusinessHours(PARIS, NINE_TO_FIVE)
    assert hours.add(paris(2026, 3, 30, 7), 1800) == paris(2026, 3, 30, 9, 30)


def test_holidays_are_closed():
    hours = BusinessHours(PARIS, NINE_TO_FIVE, frozenset({date(2026, 4, 6)}))  # Easter Monday
    assert hours.add(paris(2026, 4, 3, 16, 30), 3600) == paris(2026, 4, 7, 9, 30)


def test_an_interval_closing_at_midnight_runs_to_the_end_of_the_day():
    hours = BusinessHours(PARIS, {4: [(time(20), time(0))]})
    assert hours.add(paris(2026, 3, 27, 23), 1800) == paris(2026, 3, 27, 23, 30)
    assert hours.add(paris(2026, 3, 27, 23, 30), 3600) == paris(2026, 4, 3, 20, 30)


def test_a_schedule_without_hours_never_falls_due():
    assert BusinessHours(PARIS, {}).add(paris(2026, 3, 27, 9), 60) is None
