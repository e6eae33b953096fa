"""What a macro does to one ticket: decided for the preview (`plan_macro`), carried out
with the reply (`apply_macro`).

The plan runs the macro's actions on the triggers' in-memory `TicketState`, exactly as a
trigger's would run, and renders its text with the triggers' placeholders. Applying plans
again on the ticket as it is then, under its row lock, and writes through `update_ticket`
with the values the preview started from as `expected`: a field someone else changed since
the agent looked keeps their value, and the agent is told (their own changes since, such as
the status move their reply itself made, do not count).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction

from tickets.access import assignable_groups
from tickets.events import Actor, label
from tickets.lifecycle import find_conflicts, update_ticket
from tickets.models import Comment, Group, Ticket, User
from tickets.outbound import TextFit, measure_reply
from tickets.replies import ReplyNotice

from ..actions import compile_action
from ..placeholders import placeholder_values, render
from ..state import TicketState
from .models import CURRENT_USER, Macro

logger = logging.getLogger(__name__)

FIELD_LABELS = {"status": "Status", "priority": "Priority", "group_id": "Group", "assignee_id": "Assignee"}


@dataclass(frozen=True)
class Change:
    """One change the macro makes, as the agent reads it; `skipped` says why it will not be made."""

    field: str  # a Ticket attribute ("status", "group_id"...) or "tags"
    old: str
    new: str
    skipped: str = ""

    @property
    def text(self) -> str:
        if self.field == "tags":
            return f"Tags: {self.new}"
        return f"{FIELD_LABELS[self.field]}: {self.old} → {self.new}"


@dataclass
class MacroPlan:
    macro: Macro
    text: str
    changes: list[Change] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # Ticket attribute -> value to write
    add_tags: set[str] = field(default_factory=set)
    remove_tags: set[str] = field(default_factory=set)
    # The values the changes start from: posted back with the reply, they are what
    # `apply_macro` expects to find.
    seen: dict[str, Any] = field(default_factory=dict)
    fit: TextFit | None = None

    def as_json(self) -> dict[str, Any]:
        fit = self.fit
        return {
            "id": self.macro.pk,
            "title": self.macro.title,
            "shared": self.macro.is_shared,
            "usage": self.macro.usage_count,
            "text": self.text,
            "changes": [{"text": c.text, "skipped": c.skipped} for c in self.changes],
            "seen": self.seen,
            "fit": None if fit is None else {"length": fit.length, "limit": fit.limit, "what": fit.what,
                                             "over": fit.over},
        }


class _Context:
    """What every plan on one ticket shares: its tags and identities (one query each), the
    placeholder values, the names of groups and agents, the groups the agent may use."""

    def __init__(self, ticket: Ticket, user: User):
        self.ticket = ticket
        self.user = user
        probe = TicketState(ticket)
        self.tags = set(probe.tags)
        self.values = placeholder_values(ticket, tags=self.tags, identities=probe.identities, comment=None,
                                         current_user=user)
        self._labels: dict[tuple[str, Any], str] = {}
        self._exists: dict[tuple[str, Any], bool] = {}
        self._allowed_groups: set[int] | None = None

    def label(self, name: str, value: Any) -> str:
        key = (name, value)
        if key not in self._labels:
            self._labels[key] = label(name, value)
        return self._labels[key]

    def exists(self, name: str, pk: int | None) -> bool:
        """A group or agent a macro names may have been deleted (or deactivated) since."""
        if pk is None:
            return True
        key = (name, pk)
        if key not in self._exists:
            rows = Group.objects if name == "group_id" else User.objects.filter(is_active=True)
            self._exists[key] = rows.filter(pk=pk).exists()
        return self._exists[key]

    def may_use_group(self, pk: int | None) -> bool:
        if pk is None or not self.user.is_restricted:
            return True
        if self._allowed_groups is None:
            self._allowed_groups = set(
                assignable_groups(self.user, self.ticket.group).values_list("pk", flat=True)
            )
        return pk in self._allowed_groups


def plan_macro(macro: Macro, ticket: Ticket, user: User, *, fit_options: Mapping[str, Any] | None = None,
               context: _Context | None = None) -> MacroPlan:
    """What `macro` would do to `ticket` if `user` applied it now. `fit_options`: how the reply
    box would send the text (its `kind`, and `append_link` for X), to measure it as the
    channel counts; None: not measured."""
    context = context or _Context(ticket, user)
    state = TicketState(ticket, tags=context.tags)
    effects: list = []
    for action in macro.actions.all():
        value = str(user.pk) if action.value == CURRENT_USER and action.action == "set_assignee" else action.value
        compile_action(macro.pk, action.action, value, "", "")(state, effects)
    plan = MacroPlan(macro, render(macro.body, context.values))
    for name, (old, new) in state.changes.items():
        if name == "tags":
            continue
        skipped = ""
        if name in ("group_id", "assignee_id") and not context.exists(name, new):
            skipped = "no longer exists"
        elif name == "group_id" and not context.may_use_group(new):
            skipped = "not one of your groups"
        plan.changes.append(Change(name, context.label(name, old), context.label(name, new), skipped))
        if not skipped:
            plan.fields[name] = new
            plan.seen[name] = old
    if state.tags_changed_by_actions:
        plan.add_tags = state.tags - context.tags
        plan.remove_tags = context.tags - state.tags
        words = [f"+{t}" for t in sorted(plan.add_tags)] + [f"−{t}" for t in sorted(plan.remove_tags)]
        plan.changes.append(Change("tags", "", ", ".join(words)))
    if fit_options is not None and plan.text.strip():
        # The reply box's "how to answer": "public" or "public:<channel mode>" ("public:dm")
        # goes to the requester on the ticket's channel; email and internal notes have no limit.
        answer, _, mode = (fit_options.get("kind") or "public").partition(":")
        if answer == "public":
            options = {"mode": mode, "append_link": fit_options.get("append_link")}
            plan.fit = measure_reply(ticket, plan.text, **{k: v for k, v in options.items() if v not in (None, "")})
    return plan


def plans_for(ticket: Ticket, user: User, macros: Iterable[Macro], *,
              fit_options: Mapping[str, Any] | None = None) -> list[MacroPlan]:
    """Plans of several macros on one ticket (the picker's list), sharing one context."""
    context = _Context(ticket, user)
    return [plan_macro(m, ticket, user, fit_options=fit_options, context=context) for m in macros]


def apply_macro(macro: Macro, ticket: Ticket, user: User, seen: Mapping[str, Any] | None = None) -> list[ReplyNotice]:
    """Carry out the macro's actions on the ticket for `user` and count the use; returns what
    to tell the agent. `seen`: the values the agent's preview started from (`MacroPlan.seen`)."""
    notices: list[ReplyNotice] = []
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(of=("self",)).select_related("requester", "group", "assignee") \
            .get(pk=ticket.pk)
        plan = plan_macro(macro, locked, user)
        for change in plan.changes:
            if change.skipped:
                notices.append(ReplyNotice("warning", f"Macro “{macro}”: {change.text} not applied: {change.skipped}."))
        fields = dict(plan.fields)
        expected = {name: value for name, value in (seen or {}).items() if name in fields}
        for conflict in find_conflicts(locked, expected, fields):
            event = conflict.event
            if event is not None and event.actor_user_id == user.pk and event.new_value == conflict.current:
                continue  # the agent's own change since (their reply's status move): the macro was their choice after it
            del fields[conflict.field]
            notices.append(ReplyNotice("warning", f"Macro “{macro}”: {conflict.describe()}"))
        actor = replace(Actor.agent(user), name=f"{user} (macro “{macro}”)")
        try:
            changes = update_ticket(locked, actor=actor, add_tags=plan.add_tags, remove_tags=plan.remove_tags, **fields)
        except ValueError as exc:  # a closed ticket is not reopened
            changes = {}
            notices.append(ReplyNotice("warning", f"Macro “{macro}”: the ticket was not changed: {exc}"))
        macro.count_use()
    if changes:
        done = "; ".join(c.text for c in plan.changes if not c.skipped and c.field in changes)
        notices.insert(0, ReplyNotice("success", f"Macro “{macro}” applied: {done}."))
    return notices


# --- The reply box's side (tickets.replies.register_after_reply) ------------------------------

MACRO_INPUT = "macro"
SEEN_INPUT = "macro_seen_{}"


def apply_macros_after_reply(ticket: Ticket, comment: Comment, author: User, data: Mapping[str, str]) -> list[ReplyNotice]:
    """The macros the agent applied in the reply box (picker.js adds one `macro` input each,
    with its preview's starting values), carried out now that the reply is posted."""
    getlist = getattr(data, "getlist", None)
    raw_ids = getlist(MACRO_INPUT) if getlist else [data.get(MACRO_INPUT, "")]
    ids = list(dict.fromkeys(int(v) for v in raw_ids if str(v).isdigit()))
    if not ids:
        return []
    macros = {m.pk: m for m in Macro.objects.usable_by(author).filter(pk__in=ids).prefetch_related("actions")}
    notices: list[ReplyNotice] = []
    for pk in ids:
        macro = macros.get(pk)
        if macro is None:
            notices.append(ReplyNotice("warning", "A macro you applied is no longer available: its actions were not "
                                                  "applied."))
            continue
        notices.extend(apply_macro(macro, ticket, author, parse_seen(data.get(SEEN_INPUT.format(pk)))))
    return notices


def parse_seen(raw: str | None) -> dict[str, Any]:
    """The starting values the browser posted back; anything malformed counts as not seen."""
    try:
        seen = json.loads(raw or "{}")
    except ValueError:
        return {}
    if not isinstance(seen, dict):
        return {}
    return {k: v for k, v in seen.items() if k in FIELD_LABELS and (v is None or isinstance(v, (str, int)))}
