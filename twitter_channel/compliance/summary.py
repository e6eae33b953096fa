"""The admin's compliance page: what compliance changed, per day, and how the batch jobs went."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from twitter_channel.compliance.models import ComplianceJobRun, XDeletion

DAYS = 14


def compliance_summary() -> dict:
    since = timezone.now() - timedelta(days=DAYS)
    per_day = (
        XDeletion.objects.filter(recorded_at__gte=since)
        .annotate(day=TruncDate("recorded_at"))
        .values("day", "source")
        .annotate(deletions=Count("id"), items=Sum("items_redacted"))
        .order_by("-day", "source")
    )
    return {
        "deletions_per_day": list(per_day),
        "last_jobs": {t: ComplianceJobRun.objects.filter(type=t).first() for t in ComplianceJobRun.Type.values},
        "failed_jobs": ComplianceJobRun.objects.filter(status=ComplianceJobRun.Status.FAILED)[:10],
    }
