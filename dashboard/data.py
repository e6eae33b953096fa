"""The dashboard's figures for one range, summed from the rollups (and the live backlog)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from business_rules.sla.clocks import METRICS as SLA_METRICS
from tickets.models import Channel, User

from .backlog import backlog
from .models import Rollup
from .rollups import (
    ALL_GROUPS,
    BOUNDS,
    CREATED,
    FIRST_REPLY,
    INTAKE_LAG,
    REPLIES,
    RESOLUTION,
    SLA_ACHIEVED,
    SLA_BREACHED,
    SOLVES,
)

RANGES = {"today": 1, "7d": 7, "30d": 30}


def visible_group_ids(user: User) -> list[int] | None:
    """None: every group (admins). Agents see their groups' figures, and tickets in no group
    unless they are restricted agents."""
    if user.is_admin:
        return None
    ids = set(user.groups_member_of.values_list("pk", flat=True)) | set(user.allowed_groups.values_list("pk",
                                                                                                        flat=True))
    if not user.is_restricted:
        ids.add(0)
    return sorted(ids)


def range_start(name: str, now: datetime | None = None) -> datetime:
    now = (now or timezone.now()).astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=RANGES[name] - 1)


def dashboard_data(user: User, range_name: str, *, now: datetime | None = None) -> dict:
    now = (now or timezone.now()).astimezone(UTC)
    start = range_start(range_name, now)
    groups = visible_group_ids(user)
    cells = Rollup.objects.filter(start__gte=start, start__lte=now,
                                  group_id__in=[ALL_GROUPS] if groups is None else groups)
    return {
        "range": range_name,
        "from": start.isoformat(),
        "created_per_hour": _created_per_hour(cells, start, now),
        "backlog": backlog(groups),
        "first_reply_minutes": _percentiles(cells, FIRST_REPLY, (50, 90), scale=60),
        "resolution_hours": _percentiles(cells, RESOLUTION, (50, 90), scale=3600),
        "intake_lag_seconds": _percentiles(cells, INTAKE_LAG, (50, 95), scale=1),
        "agents": _agents(cells),
        "sla": _sla(cells),
    }


def _created_per_hour(cells, start: datetime, now: datetime) -> dict:
    hours = []
    hour = start
    while hour <= now:
        hours.append(hour)
        hour += timedelta(hours=1)
    series: dict[str, dict[datetime, int]] = defaultdict(dict)
    for row in cells.filter(metric=CREATED).values("start", "dim").annotate(n=Sum("count")):
        series[row["dim"]][row["start"]] = row["n"]
    labels = dict(Channel.choices)
    return {"labels": [h.strftime("%m-%d %H:00") for h in hours],
            "datasets": [{"label": labels.get(dim, dim), "data": [by_hour.get(h, 0) for h in hours]}
                         for dim, by_hour in sorted(series.items())]}


def _percentiles(cells, metric: str, which: tuple[int, ...], *, scale: float) -> dict:
    """Per dimension, the percentiles of a histogram metric: the upper bound of the bucket
    holding the percentile, linearly interpolated inside it (bucket width is the precision)."""
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    for row in cells.filter(metric=metric).values("dim", "bucket").annotate(n=Sum("count")):
        histograms[row["dim"]][row["bucket"]] = row["n"]
    bounds = BOUNDS[metric]
    labels = dict(Channel.choices)
    dims = sorted(histograms)
    out: dict = {"labels": [labels.get(d, d) for d in dims], "counts": [sum(histograms[d].values()) for d in dims]}
    for p in which:
        out[f"p{p}"] = [round(_percentile(histograms[d], bounds, p) / scale, 2) for d in dims]
    return out


def _percentile(histogram: dict[int, int], bounds: tuple[int, ...], p: int) -> float:
    total = sum(histogram.values())
    if not total:
        return 0.0
    rank = total * p / 100
    seen = 0
    for bucket in range(len(bounds) + 1):
        n = histogram.get(bucket, 0)
        if n and seen + n >= rank:
            low = bounds[bucket - 1] if bucket > 0 else 0
            high = bounds[bucket] if bucket < len(bounds) else bounds[-1] * 2
            return low + (high - low) * (rank - seen) / n
        seen += n
    return float(bounds[-1])


def _agents(cells) -> dict:
    activity: dict[str, dict[str, int]] = defaultdict(lambda: {REPLIES: 0, SOLVES: 0})
    for row in cells.filter(metric__in=[REPLIES, SOLVES]).values("metric", "dim").annotate(n=Sum("count")):
        activity[row["dim"]][row["metric"]] += row["n"]
    ids = [int(d) for d in activity if d.isdigit()]
    names = {str(u.pk): (u.get_full_name() or u.username) for u in User.objects.filter(pk__in=ids)}
    dims = sorted(activity, key=lambda d: -(activity[d][REPLIES] + activity[d][SOLVES]))[:20]
    return {"labels": [names.get(d, "triggers and others" if d == "-" else d) for d in dims],
            "replies": [activity[d][REPLIES] for d in dims], "solves": [activity[d][SOLVES] for d in dims]}


def _sla(cells) -> dict:
    """Targets fulfilled in the range, per metric: met in time, or late."""
    counts = {(row["metric"], row["dim"]): row["n"] for row in cells.filter(metric__in=[SLA_ACHIEVED, SLA_BREACHED])
              .values("metric", "dim").annotate(n=Sum("count"))}
    metrics = [m for m in SLA_METRICS if counts.get((SLA_ACHIEVED, m)) or counts.get((SLA_BREACHED, m))]
    return {"labels": [SLA_METRICS[m] for m in metrics],
            "achieved": [counts.get((SLA_ACHIEVED, m), 0) for m in metrics],
            "breached": [counts.get((SLA_BREACHED, m), 0) for m in metrics]}
