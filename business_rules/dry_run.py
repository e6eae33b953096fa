"""What a trigger would do to recent tickets, without doing it.

Each ticket is replayed as if its latest comment had just arrived (a ticket with only its
first comment counts as just created), and the trigger alone is evaluated against it. The
outcome lists the changes and messages the trigger would make; nothing is saved or sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from tickets.models import Comment, Group, Ticket, User

from .actions import Effect
from .engine import evaluate, load_triggers
from .models import Trigger
from .state import TicketState

EFFECT_LABELS = {
    "note": "Add internal note",
    "email_assignee": "Email the assignee",
    "email_group": "Email the group",
    "email_requester": "Email the requester",
    "reply": "Reply to the requester",
}


@dataclass(frozen=True)
class DryRunRow:
    ticket: Ticket
    matched: bool
    outcomes: tuple[str, ...]


def dry_run(trigger: Trigger, limit: int = 50) -> list[DryRunRow]:
    compiled = load_triggers(Trigger.objects.filter(pk=trigger.pk))
    tickets = Ticket.objects.order_by("-updated_at", "-pk").select_related("requester")[:limit]
    tickets = list(tickets)
    latest = latest_comments(tickets)
    rows = []
    for ticket in tickets:
        comment = latest.get(ticket.pk)
        state = TicketState(ticket, created=ticket.comment_count <= 1, comment=comment)
        plan = evaluate(state, compiled)
        rows.append(DryRunRow(ticket, bool(plan.fired), tuple(describe(state, ticket, plan.effects))))
    return rows


def latest_comments(tickets: list[Ticket]) -> dict[int, Comment]:
    newest = Comment.objects.filter(ticket=OuterRef("pk")).order_by("-created_at", "-id").values("id")[:1]
    ids = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).annotate(c=Subquery(newest)).values_list("c", flat=True)
    return {c.ticket_id: c for c in Comment.objects.filter(pk__in=[i for i in ids if i])}


def describe(state: TicketState, ticket: Ticket, effects: list[Effect]) -> list[str]:
    lines = []
    labels = {
        "status": ("Status", dict(Ticket.Status.choices)),
        "priority": ("Priority", dict(Ticket.Priority.choices)),
    }
    for name, value in state.values.items():
        before = getattr(ticket, name)
        if before == value:
            continue
        if name in labels:
            label, names = labels[name]
            lines.append(f"{label}: {names.get(before, before)} → {names.get(value, value)}")
        elif name == "group_id":
            lines.append(f"Group: {_name(Group, before)} → {_name(Group, value)}")
        elif name == "assignee_id":
            lines.append(f"Assignee: {_name(User, before)} → {_name(User, value)}")
    if state.tags_changed_by_actions:
        added = sorted(state.tags - state.initial_tags)
        removed = sorted(state.initial_tags - state.tags)
        lines.append("Tags: " + " ".join([f"+{t}" for t in added] + [f"-{t}" for t in removed]))
    for effect in effects:
        detail = effect.subject or effect.body
        lines.append(f"{EFFECT_LABELS[effect.kind]}: {detail[:80]}")
    return lines


def _name(model, pk) -> str:
    if pk is None:
        return "(none)"
    row = model.objects.filter(pk=pk).first()
    return str(row) if row else f"#{pk} (deleted)"

