"""The X cost meter: records what each call is billed for, sums the spend, applies budgets.

`x.api.XClient` hands every answered call's charges (`x.pricing.charges_for`) to a meter bound
to the account whose token made the call; pushed events are charged as they are processed
(`realtime.intake.process_pending`; each leaves the `new` state once). Recording is two
statements: an insert of today's item keys
that skips those already seen today (X bills an item once per UTC day), and one upsert per
(stream, kind) that adds to the day's counters. It never breaks the X call it meters.
"""

from __future__ import annotations

import calendar
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from twitter_channel.costs.models import XBudget, XCostDay, XCostSeenItem
from twitter_channel.x.pricing import Charge, CostStream, dollars, price_micros

log = logging.getLogger(__name__)

WARN_AT = Decimal("0.8")


def utc_today() -> date:
    return timezone.now().astimezone(UTC).date()


class CostMeter:
    """Bound to one account; `XClient(meter=...)` calls it with each response's charges."""

    def __init__(self, account) -> None:
        self.account = account

    @property
    def own_user_id(self) -> str | None:
        return getattr(self.account, "user_id", None)

    def __call__(self, charges: list[Charge]) -> None:
        record(self.account.pk, charges)


class PendingMeter(CostMeter):
    """For calls made before the account exists (connecting it): keeps the charges until
    `flush_to(account)`."""

    def __init__(self) -> None:
        super().__init__(None)
        self.charges: list[Charge] = []

    def __call__(self, charges: list[Charge]) -> None:
        self.charges += charges

    def flush_to(self, account) -> None:
        record(account.pk, self.charges)
        self.charges = []


def record(account_id: int, charges: list[Charge], *, day: date | None = None) -> int:
    """Adds `charges` to the account's counters of `day` (today, UTC); returns the micro-dollars
    billed. Items already billed today (by any account: X bills the app) are skipped."""
    if not charges:
        return 0
    day = day or utc_today()
    try:
        with transaction.atomic():  # a savepoint: a failure must not spoil the caller's transaction
            billed = _new_today(charges, day)
            counts = Counter((c.stream, c.kind) for c in billed)
            total = 0
            for (stream, kind), items in sorted(counts.items()):
                cost = items * price_micros(kind)
                total += cost
                _add(account_id, day, stream, kind, items, cost)
    except DatabaseError:
        log.exception("could not record X costs for account %s", account_id)
        return 0
    if total:
        transaction.on_commit(lambda: check_budgets(account_id))
    return total


def _new_today(charges: list[Charge], day: date) -> list[Charge]:
    """The charges X bills: every write, and each item not yet read this UTC day."""
    firsts: dict[str, Charge] = {}
    billed = []
    for charge in charges:
        if charge.item is None:
            billed.append(charge)
        else:
            firsts.setdefault(charge.item, charge)
    if firsts:
        table = XCostSeenItem._meta.db_table
        # Inserted in a fixed order, so two polls reading the same items wait for each other
        # instead of deadlocking.
        items = sorted(firsts)
        placeholders = ", ".join(["(%s, %s)"] * len(items))
        params = [value for item in items for value in (day, item)]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} (day, item) VALUES {placeholders} "
                           "ON CONFLICT (day, item) DO NOTHING RETURNING item", params)
            new = {row[0] for row in cursor.fetchall()}
        billed += [charge for item, charge in firsts.items() if item in new]
    return billed


def _add(account_id: int, day: date, stream: str, kind: str, items: int, cost: int) -> None:
    table = XCostDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, day, stream, kind, items, cost_micros) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (account_id, day, stream, kind) DO UPDATE SET "
            f"items = {table}.items + excluded.items, cost_micros = {table}.cost_micros + excluded.cost_micros",
            [account_id, day, stream, kind, items, cost])


def prune_seen_items(*, today: date | None = None) -> int:
    """Forget the items of earlier UTC days (beat, hourly): the table holds one day."""
    deleted, _ = XCostSeenItem.objects.filter(day__lt=today or utc_today()).delete()
    return deleted


# --- spend -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spend:
    today: Decimal
    month: Decimal
    projection: Decimal  # the month's spend so far, extrapolated at its daily rate to month end
    by_stream: list[tuple[str, Decimal]]  # this month, (label, dollars), costliest first
    daily: list[tuple[date, dict[str, Decimal]]]  # this month, each day's spend by kind


def month_start(day: date) -> date:
    return day.replace(day=1)


def spend_of(account=None, *, today: date | None = None) -> Spend:
    """One account's spend (or the app's, without an account) this UTC month."""
    today = today or utc_today()
    rows = XCostDay.objects.filter(day__gte=month_start(today), day__lte=today)
    if account is not None:
        rows = rows.filter(account=account)
    month = rows.aggregate(s=Sum("cost_micros"))["s"] or 0
    day_total = rows.filter(day=today).aggregate(s=Sum("cost_micros"))["s"] or 0
    streams = dict(CostStream.choices)
    by_stream = [(streams.get(r["stream"], r["stream"]), dollars(r["s"]))
                 for r in rows.values("stream").annotate(s=Sum("cost_micros")).order_by("-s")]
    daily: dict[date, dict[str, Decimal]] = {}
    for r in rows.values("day", "kind").annotate(s=Sum("cost_micros")).order_by("day"):
        daily.setdefault(r["day"], {})[r["kind"]] = dollars(r["s"])
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    projection = dollars(month * days_in_month // today.day)
    return Spend(dollars(day_total), dollars(month), projection, by_stream, sorted(daily.items()))


def month_micros(account_id: int | None, today: date) -> int:
    rows = XCostDay.objects.filter(day__gte=month_start(today), day__lte=today)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    return rows.aggregate(s=Sum("cost_micros"))["s"] or 0


# --- budgets -----------------------------------------------------------------------------

def budgets_for(account_id: int) -> list[XBudget]:
    """The account's own budget and the app's, whichever exist."""
    return list(XBudget.objects.filter(account_id=account_id)) + list(XBudget.objects.filter(account__isnull=True))


def check_budgets(account_id: int, *, today: date | None = None) -> None:
    """After spending: announce the 80 % and 100 % thresholds once a month each."""
    for budget in budgets_for(account_id):
        check_budget(budget, today=today)


def check_budget(budget: XBudget, *, today: date | None = None) -> None:
    today = today or utc_today()
    start = month_start(today)
    limit = int(budget.monthly_usd * 1_000_000)
    if limit <= 0:
        return
    spent = month_micros(budget.account_id, today)
    # The updates are conditional, so of racing workers exactly one announces.
    if spent >= limit and budget.exceeded_for != start:
        if XBudget.objects.filter(pk=budget.pk).exclude(exceeded_for=start).update(exceeded_for=start,
                                                                                    warned_for=start):
            _notify(budget, spent, exceeded=True)
    elif spent >= limit * WARN_AT and budget.warned_for != start:
        if XBudget.objects.filter(pk=budget.pk).exclude(warned_for=start).update(warned_for=start):
            _notify(budget, spent, exceeded=False)


def _notify(budget: XBudget, spent: int, *, exceeded: bool) -> None:
    whose = f"@{budget.account.username}" if budget.account_id else "the helpdesk (all X accounts)"
    if exceeded:
        effect = ("replies on X are refused" if budget.hard_stop else "replies keep working") + \
                 f"; reads slowed to one poll per stream every {budget.slow_floor_seconds} s"
        subject = f"X budget spent for {whose}"
        text = f"X has billed ${dollars(spent)} this month, the whole ${budget.monthly_usd} budget: {effect}."
    else:
        subject = f"X budget 80% used for {whose}"
        text = f"X has billed ${dollars(spent)} this month, {WARN_AT:.0%} of the ${budget.monthly_usd} budget."
    log.warning("%s: %s", subject, text)
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    admins = list(users.filter(Q(role="admin") | Q(is_superuser=True)).values_list("email", flat=True))
    if admins:
        send_mail(subject, text + f"\n\n{settings.SITE_URL}/x/accounts/", None, admins, fail_silently=True)


@dataclass(frozen=True)
class BudgetState:
    """What the account's page and the poller need to know about its budgets now."""

    warned: list[XBudget]
    exceeded: list[XBudget]

    @property
    def slow_floor_seconds(self) -> float | None:
        return max((b.slow_floor_seconds for b in self.exceeded), default=None)

    @property
    def hard_stopped(self) -> bool:
        return any(b.hard_stop for b in self.exceeded)


def budget_state(account_id: int, *, today: date | None = None) -> BudgetState:
    start = month_start(today or utc_today())
    budgets = budgets_for(account_id)
    exceeded = [b for b in budgets if b.exceeded_for == start]
    warned = [b for b in budgets if b.warned_for == start and b not in exceeded]
    return BudgetState(warned, exceeded)


def app_budget_state(*, today: date | None = None) -> BudgetState:
    start = month_start(today or utc_today())
    budgets = list(XBudget.objects.filter(account__isnull=True))
    exceeded = [b for b in budgets if b.exceeded_for == start]
    return BudgetState([b for b in budgets if b.warned_for == start and b not in exceeded], exceeded)


def budget_notices(*, today: date | None = None) -> list[XBudget]:
    """Every account budget that reached a threshold this month (the accounts list's notice)."""
    start = month_start(today or utc_today())
    return list(XBudget.objects.filter(account__isnull=False, warned_for=start).select_related("account"))


def budget_poll_floor(account_id: int) -> float | None:
    """Seconds between polls an exhausted budget imposes, or None."""
    return budget_state(account_id).slow_floor_seconds


def replies_stopped(account_id: int) -> bool:
    return budget_state(account_id).hard_stopped


def days_left(today: date) -> int:
    return calendar.monthrange(today.year, today.month)[1] - today.day

