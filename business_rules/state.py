"""What the trigger engine sees of a ticket during one update.

Built once per update from the ticket and the event; actions change it in memory while
the cascade runs, and only the final state is written back. Requester details and tags
are each loaded with one query, and only if some trigger asks for them.
"""

from __future__ import annotations

from functools import cache, cached_property
from typing import Any

from django.db import connection

from tickets.models import Comment, Identity, Tag, Ticket, User

# The ticket fields triggers read and write; names as in `tickets.lifecycle.TRACKED_FIELDS`.
FIELDS = ("status", "priority", "group_id", "assignee_id", "channel", "x_account_id")


# Plain SQL, written once from the models' metadata: these two reads run on every ticket
# update, and building them through the ORM each time cost several times the evaluation.
@cache
def tags_sql() -> str:
    through = Ticket.tags.through._meta
    return (
        f"SELECT t.{q('name')} FROM {q(Tag._meta.db_table)} t JOIN {q(through.db_table)} tt "
        f"ON tt.{q('tag_id')} = t.{q('id')} WHERE tt.{q('ticket_id')} = %s"
    )


@cache
def identities_sql() -> str:
    columns = ", ".join(q(c) for c in ("kind", "value", "handle", "followers", "verified", "confirmed_at", "is_primary"))
    return f"SELECT {columns} FROM {q(Identity._meta.db_table)} WHERE {q('requester_id')} = %s ORDER BY {q('id')}"


def q(name: str) -> str:
    return connection.ops.quote_name(name)


class TicketState:
    def __init__(
        self,
        ticket: Ticket,
        *,
        created: bool = False,
        changes: dict[str, tuple[Any, Any]] | None = None,
        comment: Comment | None = None,
        actor: User | None = None,
        tags: set[str] | None = None,
    ):
        self.ticket = ticket
        self.created = created
        self.comment = comment
        self.actor = actor
        self.values = {name: getattr(ticket, name) for name in FIELDS}
        # What this update changed, from the event and then from trigger actions:
        # field -> (value before the update, value now).
        self.changes: dict[str, tuple[Any, Any]] = dict(changes or {})
        if tags is not None:
            self.__dict__["tags"] = set(tags)
        self.initial_tags: set[str] | None = None
        # Bumped whenever an action really changes something: the engine re-checks then.
        self.revision = 0
        # The trigger whose actions run now (set by the engine), and the last one to set each
        # field or the tags: the event log credits every change to the trigger that made it.
        self.acting: Any = None
        self.set_by: dict[str, Any] = {}

    @cached_property
    def tags(self) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(tags_sql(), [self.ticket.pk])
            return {name for (name,) in cursor.fetchall()}

    @cached_property
    def identities(self) -> list[Identity]:
        with connection.cursor() as cursor:
            cursor.execute(identities_sql(), [self.ticket.requester_id])
            return [
                Identity(requester_id=self.ticket.requester_id, kind=k, value=v, handle=h, followers=f, verified=bool(ok),
                         confirmed_at=confirmed, is_primary=bool(primary))
                for k, v, h, f, ok, confirmed, primary in cursor.fetchall()
            ]

    @cached_property
    def handles(self) -> set[str]:
        return {i.handle.lower() for i in self.identities if i.kind == Identity.Kind.X and i.handle}

    @cached_property
    def confirmed_emails(self) -> list[Identity]:
        """Only confirmed addresses speak for the requester: anybody could have given another."""
        confirmed = [i for i in self.identities if i.kind == Identity.Kind.EMAIL and i.confirmed_at is not None]
        return sorted(confirmed, key=lambda i: not i.is_primary)

    @cached_property
    def email_domains(self) -> set[str]:
        return {i.value.rsplit("@", 1)[1].lower() for i in self.confirmed_emails if "@" in i.value}

    @cached_property
    def followers(self) -> int | None:
        counts = [i.followers for i in self.identities if i.kind == Identity.Kind.X and i.followers is not None]
        return max(counts) if counts else None

    @cached_property
    def verified(self) -> bool:
        return any(i.verified for i in self.identities if i.kind == Identity.Kind.X)

    @property
    def requester_email(self) -> str:
        """The primary confirmed address (what {{requester.email}} shows)."""
        return self.confirmed_emails[0].value if self.confirmed_emails else ""

    @property
    def updated_by(self) -> str:
        """"requester", "agent", or "" for the system (intake, scheduled jobs)."""
        if self.comment is not None:
            if self.comment.author_user_id:
                return "agent"
            if self.comment.author_requester_id:
                return "requester"
            return ""
        return "agent" if self.actor is not None else ""

    def set(self, name: str, value: Any) -> None:
        old = self.values[name]
        if old == value:
            return
        self.values[name] = value
        self.set_by[name] = self.acting
        original = self.changes[name][0] if name in self.changes else old
        if original == value:
            del self.changes[name]
        else:
            self.changes[name] = (original, value)
        self.revision += 1

    def set_tags(self, names: set[str]) -> None:
        if names == self.tags:
            return
        if self.initial_tags is None:
            self.initial_tags = set(self.tags)
        self.__dict__["tags"] = set(names)
        self.set_by["tags"] = self.acting
        original = set(self.changes["tags"][0]) if "tags" in self.changes else self.initial_tags
        if original == names:
            self.changes.pop("tags", None)
        else:
            self.changes["tags"] = (sorted(original), sorted(names))
        self.revision += 1

    @property
    def tags_changed_by_actions(self) -> bool:
        return self.initial_tags is not None and self.initial_tags != self.tags
