"""One pass of the automations: each active automation, in position order, acts on the
tickets its conditions match now and it has not acted on in this condition state.

- The matching tickets are found by one SQL query per automation (`ticket_filters`),
  through the indexes on the time columns, never by reading tickets into Python; a
  firing row per (automation, ticket, anchor) keeps an automation from acting twice on a
  ticket in the same state (see `AutomationFiring`).
- Closed tickets are never touched, and no action reopens one.
- Each ticket is acted on in its own transaction, with its row locked and the conditions
  checked again, so an agent's change in between wins. The update is announced like any
  other (`ticket_changed`): triggers run on it and the clocks follow.
- A pass acts on at most AUTOMATION_BATCH_SIZE tickets per automation; the next pass
  takes the rest, so a backlog never makes one pass run for minutes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from helpdesk.advisory_lock import advisory_lock
from tickets.events import Actor
from tickets.models import Ticket

from ..actions import Apply, Effect, compile_action
from ..cache import VersionedCache
from ..conditions import TIME_COLUMNS
from ..engine import Plan, apply_plan
from ..state import TicketState
from ..ticket_filters import conditions_q
from .models import Automation, AutomationFiring

logger = logging.getLogger(__name__)

AUTOMATIONS = "automations"


@dataclass(frozen=True)
class ConditionRow:
    kind: str
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class CompiledAutomation:
    id: int
    title: str
    conditions: tuple[ConditionRow, ...]
    actions: tuple[Apply, ...]

    def matches(self, now: datetime) -> Q:
        q = conditions_q(self.conditions, now)
        # A ticket is the automation's when it matches and is not closed: closed is final.
        return (q if q is not None else Q(pk__in=[])) & ~Q(status=Ticket.Status.CLOSED)

    def anchor(self):
        """The moment the condition state began: the latest of the columns its time
        conditions count from (all set, or the conditions could not hold)."""
        columns = sorted({TIME_COLUMNS[c.field] for c in self.conditions if c.field in TIME_COLUMNS and c.kind == "all"})
        if not columns:
            return F("created_at")  # no ALL time condition (rows edited outside the admin): once per ticket
        return F(columns[0]) if len(columns) == 1 else Greatest(*(F(c) for c in columns))

    def apply(self, state: TicketState, effects: list[Effect]) -> None:
        for action in self.actions:
            action(state, effects)


def load_automations() -> tuple[CompiledAutomation, ...]:
    compiled = []
    for automation in Automation.objects.filter(active=True).prefetch_related("conditions", "actions"):
        try:
            compiled.append(compile_automation(automation))
        except Exception:
            logger.exception("Automation %s (%s) does not compile; skipped", automation.pk, automation.title)
    return tuple(compiled)


def compile_automation(automation: Automation) -> CompiledAutomation:
    conditions = tuple(ConditionRow(c.kind, c.field, c.operator, c.value) for c in automation.conditions.all())
    conditions_q(conditions, timezone.now())  # fails now, not in the middle of a pass
    actions = tuple(
        compile_action(automation.pk, a.action, a.value, a.subject, a.body) for a in automation.actions.all()
    )
    return CompiledAutomation(automation.pk, automation.title, conditions, actions)


compiled_automations = VersionedCache(AUTOMATIONS, load_automations)


@dataclass
class PassReport:
    fired: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.fired.values())


def candidates(automation: CompiledAutomation, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """(ticket id, anchor) of the tickets the automation would act on now, oldest first."""
    fired = AutomationFiring.objects.filter(automation_id=automation.id, ticket=OuterRef("pk"), anchor=OuterRef("anchor"))
    tickets = (
        Ticket.objects.filter(automation.matches(now))
        .annotate(anchor=automation.anchor())
        .filter(~Exists(fired))
        .order_by("pk")
        .values_list("pk", "anchor")
    )
    return list(tickets[:limit])


# Any fixed number: the PostgreSQL advisory lock that says "a pass is running".
PASS_LOCK = 0x4175746F  # "Auto"


def exclusive_pass():
    """Whether this process may run a pass: no other pass holds the lock.

    Beat enqueues a pass every few minutes; a pass working through a backlog may still run
    when the next one starts, and two passes would fight over the same tickets (correctly,
    thanks to the row locks and firing rows, but twice the work).
    """
    return advisory_lock(PASS_LOCK)


def run_automations(*, now: datetime | None = None, limit: int | None = None) -> PassReport:
    """One pass over every active automation."""
    now = now or timezone.now()
    limit = limit or settings.AUTOMATION_BATCH_SIZE
    report = PassReport()
    for automation in compiled_automations.get():
        count = 0
        for ticket_id, anchor in candidates(automation, now, limit):
            try:
                count += fire(automation, ticket_id, anchor, now)
            except Exception:
                # One ticket's failure (a vanished row, a broken sender) must not stop the pass.
                logger.exception("Automation %r failed on ticket #%s", automation.title, ticket_id)
        report.fired[automation.title] = count
    return report


def fire(automation: CompiledAutomation, ticket_id: int, anchor: datetime, now: datetime) -> bool:
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .filter(automation.matches(now), pk=ticket_id)
            .select_related("requester", "group", "assignee")
            .first()
        )
        if ticket is None:
            return False  # changed since the query: no longer matches
        # Every firing is written under its ticket's row lock, so with the lock held a
        # look settles it: another pass that acted meanwhile has committed its row.
        fired = AutomationFiring.objects.filter(automation_id=automation.id, ticket=ticket, anchor=anchor)
        if fired.exists():
            return False
        firing = AutomationFiring.objects.create(automation_id=automation.id, ticket=ticket, anchor=anchor)
        plan = Plan(TicketState(ticket), fired=[automation])
        plan.state.acting = automation  # the event log credits its changes to it
        automation.apply(plan.state, plan.effects)
        problems = apply_plan(plan, notify=True, locked=ticket, as_actor=Actor.automation)[automation.id]
        if problems:
            firing.problems = "\n".join(problems)
            firing.save(update_fields=["problems"])
    return True
