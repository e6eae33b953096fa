"""Merging one ticket into another: a customer's mention and DM about the same order become
one ticket.

`plan_merge` decides (no side effects: what would move, or `MergeRefused` saying why not);
`merge_tickets` applies it in one transaction with both rows locked. The source's comments
move to the target with their X post and DM event ids and email Message-IDs, which is what
routes later messages: a reply on X finds the ticket holding the post it answers, a DM the
ticket holding its conversation's latest message, an email the ticket holding the message
it answers. The source closes pointing at the target (`Ticket.merged_into`): a requester
message that still reaches it (its reply-to address) is passed on (`comments.add_comment`).
Both tickets get an internal note and a line in their event log; apps that keep counts per
ticket (the dashboard's rollups) adjust them on `tickets_merging`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..access import can_change_requester, visible_tickets
from ..comments import add_comment
from ..events import Actor, record_changes, ticket_changed, tickets_merging
from ..lifecycle import EditConflict, apply_status, find_conflicts
from ..models import Comment, EmailRequest, Identity, InboundEmail, Ticket, TicketEvent, User


class MergeRefused(Exception):
    """The merge cannot be made as asked; nothing changed. The message says why."""


@dataclass
class MergePlan:
    source: Ticket
    target: Ticket
    moving: int  # comments of the source that move
    total: int  # comments the target holds afterwards, the merge's note included
    identities: list[Identity] = field(default_factory=list)  # move to the target's requester
    identities_stay: str = ""  # why the source requester's identities do not move, if they do not

    @property
    def same_requester(self) -> bool:
        return self.source.requester_id == self.target.requester_id


def plan_merge(source: Ticket, target: Ticket, *, user: User) -> MergePlan:
    """What merging `source` into `target` would do, or MergeRefused. Both tickets must be
    visible to `user`: a restricted agent merges only tickets they can see."""
    if source.pk == target.pk:
        raise MergeRefused("A ticket cannot be merged into itself.")
    if visible_tickets(user).filter(pk__in=[source.pk, target.pk]).count() != 2:
        raise MergeRefused("No such ticket.")  # says no more than a 404 would
    for ticket, role in ((source, "merged"), (target, "merged into")):
        if ticket.status == Ticket.Status.CLOSED:
            raise MergeRefused(f"Ticket #{ticket.pk} is closed and cannot be {role}.")
    total = target.comment_count + source.comment_count + 1
    if total > settings.TICKET_COMMENT_LIMIT:
        raise MergeRefused(
            f"Together the tickets hold {source.comment_count + target.comment_count:,} comments; with the merge "
            f"note #{target.pk} would hold {total:,}, more than the limit of {settings.TICKET_COMMENT_LIMIT:,}. "
            "Nothing was merged."
        )
    plan = MergePlan(source, target, moving=source.comment_count, total=total)
    if not plan.same_requester:
        _plan_identities(plan, user)
    return plan


def _plan_identities(plan: MergePlan, user: User) -> None:
    """The source's requester is the same person as the target's (that is why the tickets are
    merged): their addresses and X accounts join the target's requester, so the target can be
    answered wherever the source was. Only when nothing else depends on them."""
    old, new = plan.source.requester, plan.target.requester
    if old.tickets.exclude(pk=plan.source.pk).exists():
        plan.identities_stay = (f"{old}'s email addresses and X accounts stay with them: they have other tickets "
                                "(merging two requesters is an admin's decision).")
    elif not can_change_requester(user, new):
        plan.identities_stay = (f"{old}'s email addresses and X accounts stay with them: {new} has tickets you "
                                "cannot see, which would be answered there too.")
    else:
        plan.identities = list(old.identities.order_by("kind", "pk"))


def merge_tickets(source: Ticket, target: Ticket, *, by: User, source_status_seen: str | None = None) -> MergePlan:
    """Merge `source` into `target` as `by`; returns the plan applied.

    `source_status_seen` is the source's status on the page the agent confirmed on: if
    someone changed it since (to anything but closed), EditConflict, nothing saved."""
    with transaction.atomic():
        # Both rows locked, in id order so two merges of the same pair cannot deadlock;
        # comments added meanwhile wait and then find the ticket they were meant for.
        locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
                  .select_related("requester").order_by("pk")}
        if len(locked) != 2:
            raise MergeRefused("No such ticket.")
        source, target = locked[source.pk], locked[target.pk]
        if source_status_seen:
            conflicts = find_conflicts(source, {"status": source_status_seen}, {"status": Ticket.Status.CLOSED})
            if conflicts:
                raise EditConflict(source, conflicts)
        plan = plan_merge(source, target, user=by)
        then = [r for _, r in tickets_merging.send(sender=Ticket, source=source, target=target, by=by) if callable(r)]
        _move(plan)
        for after_move in then:
            after_move()
        now = timezone.now()
        note_on_target = add_comment(target, body=_target_note(plan), author_user=by, is_public=False, notify=False)
        add_comment(source, body=f"Merged into #{target.pk} “{target.subject}”.", author_user=by, is_public=False,
                    notify=False)
        source.refresh_from_db()
        target.refresh_from_db()
        before_status = source.status
        apply_status(source, Ticket.Status.CLOSED)
        source.merged_into = target
        source.updated_at = now
        source.save(update_fields=["status", "status_changed_at", "solved_at", "merged_into", "updated_at"])
        actor = Actor.agent(by)
        source_changes = {"status": (before_status, source.status)}
        source_events = record_changes(source, source_changes, by=actor, at=now)
        source_events.append(_merge_event(source, TicketEvent.Field.MERGED_INTO, target, actor, now))
        target_events = [_merge_event(target, TicketEvent.Field.MERGED_FROM, source, actor, now)]
    _announce(source, source_changes, None, by, source_events)
    _announce(target, {}, note_on_target, by, target_events)
    return plan


def _move(plan: MergePlan) -> None:
    source, target = plan.source, plan.target
    # Comments keep their ids and external ids (tweet, DM event, Message-ID): whatever
    # answers them later finds the target through them.
    Comment.objects.filter(ticket=source).update(ticket=target)
    InboundEmail.objects.filter(ticket=source).update(ticket=target)
    EmailRequest.objects.filter(ticket=source, used_at__isnull=True).update(ticket=target)
    if plan.identities:
        has_primary = target.requester.identities.filter(kind=Identity.Kind.EMAIL, is_primary=True).exists()
        moving = Identity.objects.filter(pk__in=[i.pk for i in plan.identities])
        if has_primary:
            # One primary address per requester: the target's stays where replies go.
            moving.update(is_primary=False)
        moving.update(requester=target.requester, updated_at=timezone.now())
    target.comment_count += source.comment_count
    # The later message of each side stands: SLA clocks and automations read these.
    for name in ("requester_replied_at", "agent_replied_at"):
        setattr(target, name, _latest(getattr(target, name), getattr(source, name)))
    target.updated_at = timezone.now()
    target.save(update_fields=["comment_count", "requester_replied_at", "agent_replied_at", "updated_at"])
    source.comment_count = 0
    Ticket.objects.filter(pk=source.pk).update(comment_count=0)


def _latest(a: Any, b: Any) -> Any:
    return max(a, b) if a and b else a or b


def _target_note(plan: MergePlan) -> str:
    s = plan.source
    text = f"Merged #{s.pk} “{s.subject}” into this ticket: {plan.moving:,} message{'s' if plan.moving != 1 else ''} moved."
    if plan.identities:
        text += f" {s.requester}'s " + ", ".join(str(i) for i in plan.identities) + f" now belong to {plan.target.requester}."
    elif plan.identities_stay:
        text += " " + plan.identities_stay
    return text


def _merge_event(ticket: Ticket, field_name: str, other: Ticket, actor: Actor, at) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, created_at=at, actor_kind=actor.kind, actor_user=actor.user, actor_name=actor.name[:255],
        field=field_name, new_value=other.pk, new_label=f"#{other.pk} {other.subject}",
    )


def _announce(ticket: Ticket, changes: dict, comment: Comment | None, by: User, events: list[TicketEvent]) -> None:
    transaction.on_commit(
        lambda: ticket_changed.send(sender=Ticket, ticket=ticket, created=False, changes=changes, comment=comment,
                                    actor=by, by=Actor.agent(by), events=events)
    )


def merge_destination(ticket: Ticket) -> Ticket:
    """The ticket a merged one lives on in (merges of merges followed), or the ticket itself."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def merge_candidates(user: User, source: Ticket, query: str, *, limit: int = 10) -> list[Ticket]:
    """Tickets `source` could be merged into, for the picker: by id, subject or requester
    (name, email, @handle), the same requester's first, only tickets `user` can see."""
    tickets = (visible_tickets(user).exclude(pk=source.pk).exclude(status=Ticket.Status.CLOSED)
               .select_related("requester"))
    query = query.strip().lstrip("#@")
    if query.isdigit():
        tickets = tickets.filter(pk=int(query))
    elif query:
        tickets = tickets.filter(
            Q(subject__icontains=query) | Q(requester__name__icontains=query)
            | Q(requester__in=Identity.objects.filter(Q(value__icontains=query) | Q(handle__icontains=query))
                .values("requester_id"))
        )
    else:
        tickets = tickets.filter(requester_id=source.requester_id)
    same_first = list(tickets.filter(requester_id=source.requester_id).order_by("-updated_at")[:limit])
    if len(same_first) < limit:
        same_first += list(tickets.exclude(requester_id=source.requester_id).order_by("-updated_at")
                           [:limit - len(same_first)])
    return same_first
