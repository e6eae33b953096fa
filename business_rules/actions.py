"""Trigger actions: what they are, how a row is checked on save, and how it compiles.

Actions that change the ticket (status, priority, group, assignee, tags) change the
in-memory `TicketState`, so later triggers in the same cascade see the new values;
the engine writes the final state once. Actions that reach outside (notes, emails,
replies) are collected as `Effect`s and carried out after that write, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from tickets.models import Ticket

from .conditions import Field as ConditionField
from .conditions import split_words, value_choices, value_label
from .placeholders import check_placeholders
from .state import TicketState


@dataclass(frozen=True)
class Effect:
    kind: str  # "note", "email_assignee", "email_group", "email_requester", "reply"
    trigger_id: int
    subject: str
    body: str


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str
    # "status", "priority", "group", "user" (pick one), "tags" (typed list), "" (no value)
    value_kind: str = ""
    needs_subject: bool = False
    needs_body: bool = False


ACTIONS: dict[str, ActionSpec] = {
    a.name: a
    for a in [
        ActionSpec("set_status", "Set status", "status"),
        ActionSpec("set_priority", "Set priority", "priority"),
        ActionSpec("set_group", "Set group", "group"),
        ActionSpec("set_assignee", "Set assignee", "user"),
        ActionSpec("add_tags", "Add tags", "tags"),
        ActionSpec("remove_tags", "Remove tags", "tags"),
        ActionSpec("set_tags", "Set tags (replace all)", "tags"),
        ActionSpec("add_internal_note", "Add internal note", needs_body=True),
        ActionSpec("email_assignee", "Email the assignee", needs_subject=True, needs_body=True),
        ActionSpec("email_group", "Email the group", needs_subject=True, needs_body=True),
        ActionSpec("email_requester", "Email the requester", needs_subject=True, needs_body=True),
        ActionSpec("reply_to_requester", "Reply to the requester on the ticket's channel", needs_body=True),
    ]
}
ACTION_CHOICES = [(a.name, a.label) for a in ACTIONS.values()]

# A trigger may move a ticket anywhere but back to New, which only a fresh ticket is.
SETTABLE_STATUSES = tuple((v, label) for v, label in Ticket.Status.choices if v != Ticket.Status.NEW)
PRIORITIES = tuple((str(v), label) for v, label in Ticket.Priority.choices)


def action_value_choices(spec: ActionSpec) -> list[tuple[str, str]] | None:
    if spec.value_kind == "status":
        return list(SETTABLE_STATUSES)
    if spec.value_kind == "priority":
        return list(PRIORITIES)
    if spec.value_kind in ("group", "user"):
        return value_choices(ConditionField("", "", [], spec.value_kind))
    return None


def describe_action(action: str, value: str) -> str:
    """An action as admins read it ("Set status Open", "Set assignee Alice"), not its codes."""
    spec = ACTIONS.get(action)
    if spec is None:
        return f"{action} {value}".strip()
    if not spec.value_kind:
        return spec.label
    return f"{spec.label} {value_label(action_value_choices(spec), value)}"


def clean_action(action: str, value: str, subject: str, body: str) -> tuple[str, str, str]:
    """The (value, subject, body) to store for a valid action; ValidationError otherwise."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationError({"action": f"Unknown action {action!r}."})
    value = (value or "").strip()
    errors: dict[str, str] = {}
    if spec.value_kind == "tags":
        words = sorted({w.lower() for w in split_words(value)})
        if not words and action != "set_tags":
            errors["value"] = "Give at least one tag."
        value = " ".join(words)
    elif spec.value_kind:
        if value not in {v for v, _ in action_value_choices(spec)}:
            errors["value"] = "Choose a valid value for this action."
    else:
        value = ""
    if spec.needs_subject:
        if not subject.strip():
            errors["subject"] = "An email needs a subject."
        else:
            try:
                check_placeholders(subject)
            except ValidationError as exc:
                errors["subject"] = exc.messages[0]
    else:
        subject = ""
    if spec.needs_body:
        if not body.strip():
            errors["body"] = "Write the text to send."
        else:
            try:
                check_placeholders(body)
            except ValidationError as exc:
                errors["body"] = exc.messages[0]
    else:
        body = ""
    if errors:
        raise ValidationError(errors)
    return value, subject.strip(), body


Apply = Callable[[TicketState, list[Effect]], None]


def compile_action(trigger_id: int, action: str, value: str, subject: str, body: str) -> Apply:
    if action == "set_status":
        # Closed is final: a trigger cannot reopen a closed ticket (agents open a follow-up).
        return lambda s, effects: s.values["status"] == Ticket.Status.CLOSED or s.set("status", value)
    if action == "set_priority":
        priority = int(value)
        return lambda s, effects: s.set("priority", priority)
    if action in ("set_group", "set_assignee"):
        key = "group_id" if action == "set_group" else "assignee_id"
        pk = int(value) if value else None
        return lambda s, effects: s.set(key, pk)
    if action in ("add_tags", "remove_tags", "set_tags"):
        words = frozenset(split_words(value))
        if action == "add_tags":
            return lambda s, effects: s.set_tags(s.tags | words)
        if action == "remove_tags":
            return lambda s, effects: s.set_tags(s.tags - words)
        return lambda s, effects: s.set_tags(set(words))
    kind = {
        "add_internal_note": "note",
        "email_assignee": "email_assignee",
        "email_group": "email_group",
        "email_requester": "email_requester",
        "reply_to_requester": "reply",
    }[action]
    effect = Effect(kind=kind, trigger_id=trigger_id, subject=subject, body=body)
    return lambda s, effects: effects.append(effect)
