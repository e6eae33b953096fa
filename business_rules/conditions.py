"""Trigger conditions: which fields exist, which operators fit each, what values they take,
and how a (field, operator, value) row is checked on save and compiled for the engine.

Each condition compiles to a plain function of `TicketState`, so evaluating a trigger
touches no database and no string parsing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import re2
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets.models import Channel, Group, Ticket, User

from .state import TicketState

Check = Callable[[TicketState], bool]

OPERATORS = {
    "is": "Is",
    "is_not": "Is not",
    "less_than": "Less than",
    "greater_than": "Greater than",
    "at_least": "At least",
    "changed": "Changed",
    "not_changed": "Not changed",
    "changed_to": "Changed to",
    "changed_from": "Changed from",
    "contains_any": "Contains at least one of",
    "contains_all": "Contains all of",
    "contains_none": "Contains none of",
    "contains": "Contains",
    "not_contains": "Does not contain",
    "matches": "Matches (regular expression)",
}
NO_VALUE = {"changed", "not_changed"}
EQUALITY = ["is", "is_not"]
CHANGES = ["changed", "changed_to", "changed_from", "not_changed"]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    operators: list[str]
    # "choice" (fixed choices), "group", "user", "x_account" (rows, empty = none),
    # "tags", "text", "number".
    kind: str
    choices: tuple[tuple[str, str], ...] = ()
    # Where the engine reads it: a TicketState.values key, or None for computed fields.
    state_key: str | None = None
    help: str = ""
    # The rule families that may use it: facts of the update itself only make sense to
    # triggers, time since something only to automations (which run on time), and SLA
    # policies cannot depend on their own clocks.
    rules: frozenset[str] = frozenset({"trigger", "automation", "sla"})


YES_NO = (("true", "Yes"), ("false", "No"))
TRIGGER, AUTOMATION, SLA = "trigger", "automation", "sla"
TRIGGERS_ONLY = frozenset({TRIGGER})
TIMED_RULES = frozenset({TRIGGER, AUTOMATION})
AUTOMATIONS_ONLY = frozenset({AUTOMATION})
HOURS = ["greater_than", "less_than"]
HOURS_HELP = "Hours; 0.5 is half an hour."
# Automations' time conditions: field -> the Ticket column the hours are counted from.
TIME_COLUMNS = {
    "hours_since_created": "created_at",
    "hours_since_updated": "updated_at",
    "hours_since_status_changed": "status_changed_at",
    "hours_since_requester_reply": "requester_replied_at",
    "hours_since_assignee_reply": "assignee_replied_at",
    "sla_hours_until_breach": "next_breach_at",
    "sla_hours_since_breach": "next_breach_at",
}
STATUS_ORDER = [value for value, _ in Ticket.Status.choices]

FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        Field(
            "update_type",
            "Ticket is",
            ["is"],
            "choice",
            (("created", "Created"), ("updated", "Updated")),
            rules=TRIGGERS_ONLY,
        ),
        Field("channel", "Channel", EQUALITY + CHANGES, "choice", tuple(Channel.choices), "channel"),
        Field("x_account", "X account", EQUALITY + CHANGES, "x_account", state_key="x_account_id"),
        Field(
            "status",
            "Status",
            EQUALITY + ["less_than", "greater_than"] + CHANGES,
            "choice",
            tuple(Ticket.Status.choices),
            "status",
        ),
        Field(
            "priority",
            "Priority",
            EQUALITY + ["less_than", "greater_than"] + CHANGES,
            "choice",
            tuple((str(v), label) for v, label in Ticket.Priority.choices),
            "priority",
        ),
        Field("group", "Group", EQUALITY + CHANGES, "group", state_key="group_id"),
        Field("assignee", "Assignee", EQUALITY + CHANGES, "user", state_key="assignee_id"),
        Field(
            "tags",
            "Tags",
            ["contains_any", "contains_all", "contains_none"],
            "tags",
            help="Tag names separated by spaces or commas.",
        ),
        Field("requester_handle", "Requester X handle", EQUALITY, "text", help="With or without @."),
        Field("requester_email_domain", "Requester email domain", EQUALITY, "text", help="For example example.com"),
        Field("requester_followers", "Requester X followers", ["at_least", "less_than"], "number"),
        Field("requester_verified", "Requester is verified on X", ["is"], "choice", YES_NO),
        Field(
            "comment_text",
            "Comment text",
            ["contains", "not_contains", "matches"],
            "text",
            help="Contains: any of the comma-separated words or phrases, ignoring case. "
            "Matches: an RE2 regular expression, ignoring case.",
            rules=TRIGGERS_ONLY,
        ),
        Field(
            "comment_visibility",
            "Comment is",
            ["is"],
            "choice",
            (("public", "Public"), ("internal", "Internal")),
            rules=TRIGGERS_ONLY,
        ),
        Field(
            "updated_by",
            "Update by",
            EQUALITY,
            "choice",
            (("requester", "Requester"), ("agent", "Agent")),
            rules=TRIGGERS_ONLY,
        ),
        Field("sla_breached", "SLA: a target is breached", ["is"], "choice", YES_NO, rules=TIMED_RULES),
        Field(
            "sla_hours_until_breach",
            "SLA: hours until next breach",
            HOURS,
            "hours",
            help="Counts only tickets with no target breached yet (running or paused). " + HOURS_HELP,
            rules=TIMED_RULES,
        ),
        Field("sla_hours_since_breach", "SLA: hours since breach", HOURS, "hours", help=HOURS_HELP, rules=TIMED_RULES),
        Field("hours_since_created", "Hours since created", HOURS, "hours", help=HOURS_HELP, rules=AUTOMATIONS_ONLY),
        Field("hours_since_updated", "Hours since updated", HOURS, "hours", help=HOURS_HELP, rules=AUTOMATIONS_ONLY),
        Field(
            "hours_since_status_changed",
            "Hours since status changed",
            HOURS,
            "hours",
            help=HOURS_HELP,
            rules=AUTOMATIONS_ONLY,
        ),
        Field(
            "hours_since_requester_reply",
            "Hours since requester's last message",
            HOURS,
            "hours",
            help=HOURS_HELP,
            rules=AUTOMATIONS_ONLY,
        ),
        Field(
            "hours_since_assignee_reply",
            "Hours since assignee's last reply",
            HOURS,
            "hours",
            help="A public reply or DM by the agent the ticket is assigned to. " + HOURS_HELP,
            rules=AUTOMATIONS_ONLY,
        ),
    ]
}

FIELD_CHOICES = [(f.name, f.label) for f in FIELDS.values() if TRIGGER in f.rules]


def fields_for(rules: str) -> dict[str, Field]:
    """The condition fields a rule family offers."""
    return {name: f for name, f in FIELDS.items() if rules in f.rules}
OPERATOR_CHOICES = list(OPERATORS.items())


def value_choices(field: Field) -> list[tuple[str, str]] | None:
    """The values an admin may pick for a field, or None where they type a value."""
    if field.kind == "choice":
        return list(field.choices)
    if field.kind == "group":
        return [("", "(none)")] + [(str(g.pk), g.name) for g in Group.objects.all()]
    if field.kind == "user":
        agents = User.objects.filter(is_active=True).order_by("username")
        return [("", "(nobody)")] + [(str(u.pk), str(u)) for u in agents]
    if field.kind == "x_account":
        # The ticket's own link names the account model: business rules see tickets, not the X app.
        accounts = Ticket._meta.get_field("x_account").related_model.objects.all()
        return [("", "(none)")] + [(str(a.pk), str(a)) for a in accounts]
    return None


def describe_condition(field_name: str, operator: str, value: str) -> str:
    """A condition as admins read it ("Channel is X DM", "Group changed to Billing"), never
    its stored codes; a row naming a field or value that is gone shows what it stored."""
    field = FIELDS.get(field_name)
    if field is None:
        return f"{field_name} {operator} {value}".strip()
    words = OPERATORS.get(operator, operator).lower()
    if operator in NO_VALUE:
        return f"{field.label} {words}"
    return f"{field.label} {words} {value_label(value_choices(field), value)}"


def value_label(choices: list[tuple[str, str]] | None, value: str) -> str:
    if choices is None:
        return value
    return dict(choices).get(value, f"{value} (deleted)")


def split_words(value: str) -> list[str]:
    return [w for w in (part.strip() for part in value.replace(",", " ").split()) if w]


def operators_for(field: Field, rules: str) -> list[str]:
    # Changes belong to an update; automations and policies look at tickets as they are.
    return field.operators if rules == TRIGGER else [o for o in field.operators if o not in CHANGES]


def clean_condition(field_name: str, operator: str, value: str, rules: str = TRIGGER) -> str:
    """The value to store for a valid combination; ValidationError for any other."""
    field = FIELDS.get(field_name)
    if field is None or rules not in field.rules:
        raise ValidationError({"field": f"Unknown field {field_name!r}."})
    if operator not in operators_for(field, rules):
        allowed = ", ".join(OPERATORS[o] for o in operators_for(field, rules))
        raise ValidationError({"operator": f"{field.label} takes these operators: {allowed}."})
    value = (value or "").strip()
    if operator in NO_VALUE:
        return ""
    if field.kind in ("choice", "group", "user", "x_account"):
        choices = value_choices(field)
        if value not in {v for v, _ in choices}:
            raise ValidationError({"value": f"Choose a valid {field.label.lower()}."})
        if value == "" and operator in ("less_than", "greater_than"):
            raise ValidationError({"value": "Choose a value to compare with."})
        return value
    if field.kind == "tags":
        words = sorted({w.lower() for w in split_words(value)})
        if not words:
            raise ValidationError({"value": "Give at least one tag."})
        return " ".join(words)
    if field.kind == "number":
        if not value.isdigit():
            raise ValidationError({"value": "Give a whole number."})
        return str(int(value))
    if field.kind == "hours":
        try:
            hours = float(value)
        except ValueError:
            hours = -1.0
        if not 0 <= hours <= 100_000:
            raise ValidationError({"value": "Give a number of hours, like 48 or 0.5."})
        return f"{hours:g}"
    # Free text
    if not value:
        raise ValidationError({"value": f"Give a value for {field.label.lower()}."})
    if field.name == "requester_handle":
        return value.lstrip("@").lower()
    if field.name == "requester_email_domain":
        return value.lstrip("@").lower()
    if operator == "matches":
        compile_regex(value)
    return value


REGEX_OPTIONS = re2.Options()
REGEX_OPTIONS.case_sensitive = False
REGEX_OPTIONS.log_errors = False  # a bad pattern is a form error, not a line on stderr


def compile_regex(pattern: str):
    if len(pattern) > 500:
        raise ValidationError({"value": "Keep the pattern under 500 characters."})
    try:
        return re2.compile(pattern, REGEX_OPTIONS)
    except re2.error as exc:
        raise ValidationError({"value": f"Not a valid RE2 regular expression: {exc}"}) from None


def typed(field: Field, value: str) -> Any:
    """The stored string as the engine compares it (ids and priorities as ints, empty as None)."""
    if field.kind in ("group", "user", "x_account"):
        return int(value) if value else None
    if field.name == "priority":
        return int(value)
    return value


def order_key(field: Field) -> Callable[[Any], Any]:
    if field.name == "status":
        return STATUS_ORDER.index
    return lambda v: v


def compile_condition(field_name: str, operator: str, value: str) -> Check:
    """A function of the ticket state that says whether the condition holds."""
    field = FIELDS[field_name]
    if field.state_key is not None:
        return compile_field_condition(field, operator, value)
    name = field.name
    if name == "update_type":
        want_created = value == "created"
        return lambda s: s.created == want_created
    if name == "tags":
        words = frozenset(split_words(value))
        if operator == "contains_any":
            return lambda s: not words.isdisjoint(s.tags)
        if operator == "contains_all":
            return lambda s: words <= s.tags
        return lambda s: words.isdisjoint(s.tags)
    if name == "requester_handle":
        return (lambda s: value in s.handles) if operator == "is" else (lambda s: value not in s.handles)
    if name == "requester_email_domain":
        if operator == "is":
            return lambda s: value in s.email_domains
        return lambda s: value not in s.email_domains
    if name == "requester_followers":
        limit = int(value)
        if operator == "at_least":
            return lambda s: s.followers is not None and s.followers >= limit
        return lambda s: s.followers is not None and s.followers < limit
    if name == "requester_verified":
        want = value == "true"
        return lambda s: s.verified == want
    if name == "comment_text":
        return compile_comment_text(operator, value)
    if name == "comment_visibility":
        want_public = value == "public"
        return lambda s: s.comment is not None and s.comment.is_public == want_public
    if name == "updated_by":
        if operator == "is":
            return lambda s: s.updated_by == value
        return lambda s: s.updated_by != value
    if name.startswith("sla_"):
        return compile_sla_condition(name, operator, value)
    raise ValueError(f"No compiler for {field_name}")


def compile_field_condition(field: Field, operator: str, raw: str) -> Check:
    key = field.state_key
    value = typed(field, raw) if operator not in NO_VALUE else None
    if operator == "is":
        return lambda s: s.values[key] == value
    if operator == "is_not":
        return lambda s: s.values[key] != value
    if operator in ("less_than", "greater_than"):
        rank = order_key(field)
        bound = rank(value)
        if operator == "less_than":
            return lambda s: s.values[key] is not None and rank(s.values[key]) < bound
        return lambda s: s.values[key] is not None and rank(s.values[key]) > bound
    if operator == "changed":
        return lambda s: key in s.changes
    if operator == "not_changed":
        return lambda s: key not in s.changes
    if operator == "changed_to":
        return lambda s: key in s.changes and s.changes[key][1] == value
    if operator == "changed_from":
        return lambda s: key in s.changes and s.changes[key][0] == value
    raise ValueError(f"No operator {operator} for {field.name}")


def compile_comment_text(operator: str, value: str) -> Check:
    def text(s: TicketState) -> str | None:
        return s.comment.body if s.comment is not None else None

    if operator == "matches":
        pattern = compile_regex(value)
        return lambda s: text(s) is not None and pattern.search(text(s)) is not None
    phrases = [p.strip().lower() for p in value.split(",") if p.strip()]

    def contains(s: TicketState) -> bool:
        body = text(s)
        if body is None:
            return False
        body = body.lower()
        return any(p in body for p in phrases)

    if operator == "contains":
        return contains
    return lambda s: not contains(s)


def compile_sla_condition(name: str, operator: str, value: str) -> Check:
    """SLA conditions read the ticket's next due time (kept by `business_rules.sla`) against
    the time of the check; `ticket_filters` asks the same in SQL."""
    if name == "sla_breached":
        want = value == "true"
        return lambda s: breached(s.ticket.next_breach_at, timezone.now()) == want
    span = timedelta(hours=float(value))
    if name == "sla_hours_until_breach":
        if operator == "less_than":
            return lambda s: _due_between(s, timedelta(0), span)
        return lambda s: s.ticket.next_breach_at is not None and s.ticket.next_breach_at > timezone.now() + span
    if operator == "less_than":
        return lambda s: _due_between(s, -span, timedelta(0), future=False)
    return lambda s: s.ticket.next_breach_at is not None and s.ticket.next_breach_at < timezone.now() - span


def breached(due, now) -> bool:
    return due is not None and due <= now


def _due_between(s: TicketState, low: timedelta, high: timedelta, future: bool = True) -> bool:
    due, now = s.ticket.next_breach_at, timezone.now()
    if due is None:
        return False
    if future:
        return now + low < due < now + high
    return now + low < due <= now + high
