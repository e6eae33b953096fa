"""What X billed, per account, UTC day, stream and kind; and the monthly budgets."""

from __future__ import annotations

from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce

from twitter_channel.x.pricing import CostStream, Kind


class XCostDay(models.Model):
    """One counter per (account, UTC day, stream, kind), bumped by an upsert on every call:
    at most 31 × 7 × 10 rows per account and month, so sums over a month stay cheap."""

    account = models.ForeignKey("twitter_channel.XAccount", on_delete=models.CASCADE, related_name="cost_days")
    day = models.DateField()
    stream = models.CharField(max_length=12, choices=CostStream.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    items = models.PositiveBigIntegerField(default=0)
    cost_micros = models.BigIntegerField(default=0)  # dollars × 1,000,000

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "stream", "kind"],
                                               name="unique_cost_per_account_day_stream_kind")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.stream} {self.kind}: {self.items}"


class XCostSeenItem(models.Model):
    """Items read today ("post:123"): X bills an item once per UTC day across the app.
    Rows of earlier days are useless and are deleted by beat (`prune_seen_items`)."""

    day = models.DateField()
    item = models.CharField(max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "item"], name="unique_seen_item_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.item}"


class XBudget(models.Model):
    """A monthly spending budget: for one account, or (`account` empty) for the whole app.

    At 80 % the admins are warned (a notice on the X pages and an email), once a month; at
    100 % reads slow to `slow_floor_seconds` between polls, and with `hard_stop` replies stop too.
    """

    account = models.OneToOneField("twitter_channel.XAccount", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="budget")
    monthly_usd = models.DecimalField("monthly budget (USD)", max_digits=10, decimal_places=2)
    slow_floor_seconds = models.PositiveIntegerField(
        "poll interval once spent (seconds)", default=900,
        help_text="Once the month's budget is spent, each stream is read at most this often.")
    hard_stop = models.BooleanField(
        "hard stop", default=False, help_text="Once the budget is spent, refuse replies on X as well.")
    # The first day of the month each threshold was last announced for (once a month each).
    warned_for = models.DateField(null=True, blank=True)
    exceeded_for = models.DateField(null=True, blank=True)

    class Meta:
        # One app-wide row: NULLs never clash in a unique index, so the index is on account or 0.
        constraints = [models.UniqueConstraint(Coalesce("account", Value(0)), name="one_budget_per_account_or_app")]

    def __str__(self) -> str:
        return f"budget of {self.account or 'the app'}: ${self.monthly_usd}/month"
