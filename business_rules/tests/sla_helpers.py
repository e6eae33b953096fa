"""Building SLA policies in tests the way the admin does."""

from __future__ import annotations

from business_rules.conditions import SLA, clean_condition
from business_rules.sla.models import SlaPolicy
from tickets.models import Ticket


def make_policy(
    title: str = "Policy",
    *,
    all: list[tuple[str, str, str]] = (),  # noqa: A002 - the admin's "all" list
    targets: dict | None = None,
    priority: int = Ticket.Priority.NORMAL,
    position: int = 0,
    schedule=None,
) -> SlaPolicy:
    """`targets`: metric -> minutes, for `priority`."""
    policy = SlaPolicy.objects.create(title=title, position=position, schedule=schedule)
    for i, (field, operator, value) in enumerate(all):
        value = clean_condition(field, operator, value, SLA)
        policy.conditions.create(kind="all", field=field, operator=operator, value=value, position=i)
    policy.targets.create(priority=priority, **(targets or {}))
    return policy
