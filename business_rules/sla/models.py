"""Service-level policies, the working hours they count in, and each ticket's clocks."""

from __future__ import annotations

import zoneinfo
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models

from tickets.models import Ticket

from ..rule_rows import ConditionRow
from .clocks import METRICS, Clock
from .hours import BusinessHours, Calendar, CalendarHours


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a time zone (for example Europe/Paris).") from None


class Schedule(models.Model):
    """Business hours: opening hours per weekday in a time zone, and holidays."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"

    def calendar(self) -> BusinessHours:
        """Needs `intervals` and `holidays` prefetched to avoid two queries."""
        weekly: dict[int, list[tuple[time, time]]] = {}
        for interval in self.intervals.all():
            weekly.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
        return BusinessHours(
            zoneinfo.ZoneInfo(self.time_zone),
            weekly,
            frozenset(h.date for h in self.holidays.all()),
        )


class ScheduleInterval(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight, the end of the day.")

    class Meta:
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None and self.closes != time(0) and self.closes <= self.opens:
            raise ValidationError({"closes": "Closing time must come after opening time."})


class Holiday(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["schedule", "date"], name="unique_holiday")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    """Targets for the tickets its conditions match; policies are tried in position order
    and the first that matches applies."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True, db_index=True)
    position = models.PositiveIntegerField(default=0, db_index=True)
    schedule = models.ForeignKey(
        Schedule,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Count business hours on this schedule; leave empty to count every hour.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.title

    def calendar(self) -> Calendar:
        return self.schedule.calendar() if self.schedule is not None else CalendarHours()


class SlaPolicyCondition(ConditionRow):
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="conditions")


class SlaTarget(models.Model):
    """The targets, in minutes, for one priority; an empty target is not measured."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(choices=Ticket.Priority.choices)
    first_reply = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")
    next_reply = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")
    periodic_update = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")
    requester_wait = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")
    resolution = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")

    class Meta:
        ordering = ["-priority"]
        constraints = [models.UniqueConstraint(fields=["policy", "priority"], name="unique_sla_target_priority")]

    def __str__(self) -> str:
        return f"{self.policy}: {self.get_priority_display()}"

    def seconds(self) -> dict[str, float]:
        return {m: getattr(self, m) * 60.0 for m in METRICS if getattr(self, m) is not None}


class TicketClocks(models.Model):
    """The clocks of one ticket under the policy that applies to it (see `sla.clocks`)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla_clocks")
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    clocks = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "ticket clocks"

    def __str__(self) -> str:
        return f"Clocks of #{self.ticket_id}"

    def as_clocks(self) -> dict[str, Clock]:
        return {metric: Clock.from_json(data) for metric, data in self.clocks.items()}
