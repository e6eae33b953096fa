"""The trigger engine: which triggers fire on a ticket update, and what they do.

Semantics (as support teams know them from Zendesk):

- Triggers run after every ticket create/update, in position order, against the ticket as
  it is after the update. A trigger fires when ALL its "all" conditions hold and, if it has
  "any" conditions, at least one of them does. A trigger without conditions never fires.
- When a firing trigger changes the ticket, the triggers after it see the new state, and
  once the pass ends every trigger that has not fired yet is checked again, pass after
  pass, until a pass changes nothing. "Changed" conditions see this update's changes,
  those of the event and those made by earlier triggers.
- Each trigger fires at most once per update, so a cascade always ends (two triggers that
  undo each other fire once each, then stop).
- The whole cascade is one update: the final state is saved once, without emitting
  `ticket_changed` again; notes, emails and replies follow, in firing order.

Evaluation works on a compiled, cached copy of the active triggers (`compiled_triggers`):
no query per trigger, only the version check, the ticket, its tags and its requester's
identities, each read once and only when needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import transaction
from django.db.models import Subquery

from tickets.comments import TicketFull, add_comment
from tickets.events import Actor
from tickets.lifecycle import find_conflicts, update_ticket
from tickets.mail.addresses import email_address_for
from tickets.mail.notifications import queue_notification
from tickets.models import Comment, Group, Ticket, User
from tickets.outbound import NoSenderForChannel, reply_to_requester

from .actions import Apply, Effect, compile_action
from .cache import VersionedCache
from .conditions import Check, compile_condition
from .models import RulesVersion, Trigger, TriggerCondition, TriggerFiring
from .placeholders import placeholder_values, render
from .state import FIELDS, TicketState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledTrigger:
    id: int
    title: str
    all_checks: tuple[Check, ...]
    any_checks: tuple[Check, ...]
    actions: tuple[Apply, ...]

    def matches(self, state: TicketState) -> bool:
        if not self.all_checks and not self.any_checks:
            return False
        for check in self.all_checks:
            if not check(state):
                return False
        if self.any_checks:
            return any(check(state) for check in self.any_checks)
        return True

    def apply(self, state: TicketState, effects: list[Effect]) -> None:
        for action in self.actions:
            action(state, effects)


def compile_trigger(trigger: Trigger) -> CompiledTrigger:
    """Compile a trigger whose conditions and actions are prefetched."""
    all_checks, any_checks = [], []
    for c in trigger.conditions.all():
        check = compile_condition(c.field, c.operator, c.value)
        (all_checks if c.kind == TriggerCondition.Kind.ALL else any_checks).append(check)
    actions = [compile_action(trigger.pk, a.action, a.value, a.subject, a.body) for a in trigger.actions.all()]
    return CompiledTrigger(trigger.pk, trigger.title, tuple(all_checks), tuple(any_checks), tuple(actions))


def load_triggers(queryset=None) -> tuple[CompiledTrigger, ...]:
    queryset = queryset if queryset is not None else Trigger.objects.filter(active=True)
    triggers = queryset.order_by("position", "id").prefetch_related("conditions", "actions")
    compiled = []
    for trigger in triggers:
        try:
            compiled.append(compile_trigger(trigger))
        except Exception:
            # Rows are validated on save, so this is a row edited behind the admin's back:
            # skip that trigger rather than stop every other one.
            logger.exception("Trigger %s (%s) does not compile; skipped", trigger.pk, trigger.title)
    return tuple(compiled)


TRIGGERS = "triggers"
compiled_triggers = VersionedCache(TRIGGERS, load_triggers)


@dataclass
class Plan:
    """What the cascade decided: triggers that fired, in order, and the effects to carry out."""

    state: TicketState
    fired: list[CompiledTrigger] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    def field_changes(self, ticket: Ticket) -> dict[str, Any]:
        """Ticket fields the triggers changed, relative to `ticket` as saved."""
        return {name: v for name, v in self.state.values.items() if getattr(ticket, name) != v}


def evaluate(state: TicketState, triggers: Iterable[CompiledTrigger]) -> Plan:
    """Run the cascade in memory; nothing is saved or sent."""
    triggers = tuple(triggers)
    plan = Plan(state)
    fired: set[int] = set()
    while True:
        revision = state.revision
        for trigger in triggers:
            if trigger.id in fired or not trigger.matches(state):
                continue
            fired.add(trigger.id)
            plan.fired.append(trigger)
            state.acting = trigger
            trigger.apply(state, plan.effects)
            state.acting = None
        if state.revision == revision:
            # This pass changed nothing, so no unfired trigger can have started to match.
            return plan


def state_for_event(
    ticket: Ticket,
    *,
    created: bool,
    changes: dict[str, tuple[Any, Any]] | None,
    comment: Comment | None,
    actor: User | None,
) -> tuple[TicketState, tuple[CompiledTrigger, ...]]:
    """The ticket's state for this update, and the triggers to run on it."""
    # The ticket object an event carries may predate other changes in the same
    # transaction (open_ticket, then add_comment on another instance): read it afresh,
    # and the triggers' version with it, in one round trip.
    sql, params = fresh_ticket_sql()
    rows = list(Ticket.objects.raw(sql, [ticket.pk if p == PK_MARK else p for p in params]))
    if not rows:
        raise Ticket.DoesNotExist(f"Ticket {ticket.pk} is gone")
    fresh = rows[0]
    triggers = compiled_triggers.get(version=fresh.triggers_version or 0)
    state = TicketState(fresh, created=created, changes=changes, comment=comment, actor=actor)
    return state, triggers


PK_MARK = -424242


@cache
def fresh_ticket_sql() -> tuple[str, tuple]:
    """The ticket with the triggers' version, compiled by the ORM once and reused: compiling
    it on every update cost more than evaluating 200 triggers."""
    version = RulesVersion.objects.filter(name=TRIGGERS).values("version")[:1]
    query = Ticket.objects.annotate(triggers_version=Subquery(version)).filter(pk=PK_MARK).order_by().query
    return query.sql_with_params()


_running = threading.local()


def _suppressed() -> set[int]:
    return _running.__dict__.setdefault("ids", set())


def is_running_for(ticket_id: int) -> bool:
    """True while this thread carries out triggers on the ticket: events then come from our
    own actions (a channel's reply sender may notify) and are part of the same update."""
    return ticket_id in _suppressed()


def run_triggers(
    ticket: Ticket,
    *,
    created: bool = False,
    changes: dict[str, tuple[Any, Any]] | None = None,
    comment: Comment | None = None,
    actor: User | None = None,
) -> Plan | None:
    """Evaluate the active triggers on this update and carry out what fired."""
    state, triggers = state_for_event(ticket, created=created, changes=changes, comment=comment, actor=actor)
    return run_cascade(state, triggers)


def run_triggers_on_opened(opened: Iterable[Any]) -> dict[int, Plan]:
    """`run_triggers` for many tickets just opened with their first comment (`Opened` of
    `tickets_opened`): the triggers' version in one query (when no trigger is active, that
    is all), the tickets in another. Returns each ticket's plan; a ticket whose cascade
    failed is logged and left out, never stopping the others."""
    return _run_on_comments(opened, created=True)


def run_triggers_on_messages(added: Iterable[Any]) -> dict[int, Plan]:
    """`run_triggers_on_opened` for requesters' messages just added to tickets that took
    them as they were (`Added` of `messages_added`), one message per ticket: an update with
    no changes and the message as its comment."""
    return _run_on_comments(added, created=False)


def _run_on_comments(events: Iterable[Any], *, created: bool) -> dict[int, Plan]:
    events = list(events)
    # The version alone first: with no trigger active the tickets need not be read at all.
    version = RulesVersion.objects.filter(name=TRIGGERS).values_list("version", flat=True).first()
    triggers = compiled_triggers.get(version=version or 0)
    if not triggers:
        return {}
    fresh = Ticket.objects.in_bulk([e.ticket.pk for e in events])
    plans = {}
    for event in events:
        if event.ticket.pk not in fresh:
            continue
        state = TicketState(fresh[event.ticket.pk], created=created, changes={}, comment=event.comment, actor=None)
        try:
            plans[event.ticket.pk] = run_cascade(state, triggers)
        except Exception:
            logger.exception("Triggers failed on ticket #%s", event.ticket.pk)
    return plans


def run_cascade(state: TicketState, triggers: tuple[CompiledTrigger, ...]) -> Plan | None:
    """Evaluate `triggers` on the ticket's state and carry out what fired."""
    if not triggers:
        return None
    ticket = state.ticket
    plan = evaluate(state, triggers)
    if plan.fired:
        _suppressed().add(ticket.pk)
        try:
            with transaction.atomic():
                carry_out(plan)
                # Released after the callbacks our actions scheduled (they run in order).
                transaction.on_commit(lambda: _suppressed().discard(ticket.pk))
        finally:
            if not transaction.get_connection().in_atomic_block:
                # Committed (and the callbacks ran) or rolled back: either way, done.
                _suppressed().discard(ticket.pk)
    return plan


def carry_out(plan: Plan) -> None:
    """Carry out what the triggers decided, and record each firing with its problems."""
    problems = apply_plan(plan)
    TriggerFiring.objects.bulk_create(
        TriggerFiring(trigger_id=t.id, ticket_id=plan.state.ticket.pk, problems="\n".join(problems[t.id]))
        for t in plan.fired
    )


def apply_plan(
    plan: Plan,
    *,
    notify: bool = False,
    locked: Ticket | None = None,
    as_actor: Callable[[str], Actor] = Actor.trigger,
) -> dict[int, list[str]]:
    """Save what the rules that fired decided and carry out their effects; returns, per
    rule, what could not be done. `notify`: announce the change (`ticket_changed`), as an
    automation's update is announced; a trigger cascade's own update is not, it is part of
    the update that started it. `locked`: the ticket, already read FOR UPDATE in this
    transaction with its requester, group and assignee (else it is read here). `as_actor`:
    how the event log names a rule (a trigger, an automation) from its title."""
    state = plan.state
    ticket = locked or (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("requester", "group", "assignee")
        .get(pk=state.ticket.pk)
    )
    problems: dict[int, list[str]] = {t.id: [] for t in plan.fired}
    fields = plan.field_changes(state.ticket)
    # Only fields the triggers changed are written: anything else moved on in the
    # database since the event stays as it is.
    fields = {name: value for name, value in fields.items() if name in FIELDS}
    _drop_vanished_rows(fields, problems, plan)
    _drop_overtaken_fields(ticket, fields, problems, state)
    # Tags as the triggers' additions and removals: tags an agent set meanwhile stay.
    added = removed = ()
    if state.tags_changed_by_actions:
        added, removed = state.tags - state.initial_tags, state.initial_tags - state.tags
    if fields or added or removed:
        actors = {name: as_actor(t.title) for name, t in state.set_by.items() if t is not None}
        try:
            update_ticket(
                ticket,
                actor=as_actor(plan.fired[0].title),
                field_actors=actors,
                add_tags=added,
                remove_tags=removed,
                notify=notify,
                **fields,
            )
        except ValueError as exc:
            for trigger in plan.fired:
                problems[trigger.id].append(f"Could not update the ticket: {exc}")
    if plan.effects:
        values = placeholder_values(ticket, tags=state.tags, identities=state.identities, comment=state.comment,
                                    current_user=state.actor)
        titles = {t.id: t.title for t in plan.fired}
        for effect in plan.effects:
            problem = perform(effect, ticket, state, values)
            if problem:
                logger.info("Trigger %r on ticket #%s: %s", titles[effect.trigger_id], ticket.pk, problem)
                problems[effect.trigger_id].append(problem)
    return problems


def _drop_vanished_rows(fields: dict[str, Any], problems: dict[int, list[str]], plan: Plan) -> None:
    """A trigger may name a group or agent deleted since it was saved; skip that change."""
    checks = (("group_id", Group.objects), ("assignee_id", User.objects.filter(is_active=True)))
    for name, rows in checks:
        pk = fields.get(name)
        if pk is not None and not rows.filter(pk=pk).exists():
            del fields[name]
            for trigger in plan.fired:
                problems[trigger.id].append(f"{name.removesuffix('_id').title()} {pk} no longer exists; not set.")


def _drop_overtaken_fields(ticket: Ticket, fields: dict[str, Any], problems: dict[int, list[str]], state) -> None:
    """The cascade decided on the ticket as it was read for this update; a field someone
    changed since (an agent saving while the triggers ran) keeps their value. Their save
    runs the triggers again on what they set."""
    expected = {name: getattr(state.ticket, name) for name in fields}
    for conflict in find_conflicts(ticket, expected, fields):
        del fields[conflict.field]
        setter = state.set_by.get(conflict.field)
        if setter is not None:
            problems[setter.id].append(f"Not set: {conflict.describe()}")


def perform(effect: Effect, ticket: Ticket, state: TicketState, values: dict[str, str]) -> str:
    """Carry out one effect; returns why it could not be done, or ""."""
    body = render(effect.body, values)
    subject = " ".join(render(effect.subject, values).split())
    if effect.kind == "note":
        try:
            add_comment(ticket, body=body, is_public=False, notify=False)
        except TicketFull as exc:
            return f"Internal note not added: {exc}"
        return ""
    if effect.kind == "reply":
        try:
            reply_to_requester(ticket, body, author=None)
        except NoSenderForChannel as exc:
            return f"Reply not sent: {exc}."
        except Exception as exc:
            logger.exception("Trigger reply on ticket #%s failed", ticket.pk)
            return f"Reply not sent: {exc}"
        return ""
    if effect.kind == "email_assignee":
        if ticket.assignee is None:
            return "Email to the assignee not sent: the ticket has no assignee."
        recipients = [ticket.assignee.email] if ticket.assignee.email else []
        if not recipients:
            return f"Email to the assignee not sent: {ticket.assignee} has no email address."
    elif effect.kind == "email_group":
        if ticket.group is None:
            return "Email to the group not sent: the ticket has no group."
        recipients = sorted(
            set(ticket.group.members.filter(is_active=True).exclude(email="").values_list("email", flat=True))
        )
        if not recipients:
            return f"Email to the group not sent: nobody in {ticket.group} has an email address."
    else:
        # The same address a reply by email would go to: never an unconfirmed one, which
        # anybody could have attached to the requester.
        address = email_address_for(ticket)
        recipients = [address] if address else []
        if not recipients:
            return "Email to the requester not sent: the requester has no confirmed email address."
    # In the outbox (tickets/outbox.py): sent after commit, swept up if the broker lost it.
    queue_notification(recipients, subject, body)
    return ""
