"""{{placeholders}} in trigger emails, notes and replies.

A deliberately small substitution, not the template engine: an admin-typed text gets the
few ticket facts below and nothing else (no attribute walking, no tags, no filters), so a
trigger can never reach data it should not. Unknown names are refused when the trigger is
saved; at run time they would render empty.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError

from tickets.models import Comment, Identity, Ticket, User

PLACEHOLDER = re.compile(r"{{\s*([a-z_]+\.[a-z_]+)\s*}}")

KNOWN = {
    "ticket.id": "Ticket number",
    "ticket.url": "Link to the ticket in the helpdesk",
    "ticket.subject": "Subject",
    "ticket.status": "Status",
    "ticket.priority": "Priority",
    "ticket.channel": "Channel",
    "ticket.tags": "Tags, space separated",
    "ticket.group": "Group name",
    "ticket.assignee": "Assignee name",
    "requester.name": "Requester name",
    "requester.first_name": "Requester first name (the first word of their name)",
    "requester.handle": "Requester X handle (with @)",
    "requester.email": "Requester email",
    "comment.body": "Text of the comment that caused the update",
    "comment.author": "Author of that comment",
    "current_user.name": "The agent who made the update (or applies the macro)",
    "current_user.first_name": "That agent's first name",
}


def check_placeholders(text: str) -> None:
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in KNOWN})
    if unknown:
        raise ValidationError(
            "Unknown placeholder(s): %(names)s. Known: %(known)s.",
            params={"names": ", ".join(unknown), "known": ", ".join(f"{{{{{k}}}}}" for k in KNOWN)},
        )


def placeholder_values(
    ticket: Ticket,
    *,
    tags: set[str],
    identities: list[Identity],
    comment: Comment | None,
    current_user: User | None = None,
) -> dict[str, str]:
    """The values of every KNOWN name for this ticket. `current_user`: the agent whose update
    runs the triggers, or who applies a macro (empty for the intake and scheduled jobs)."""
    handles = [i.handle for i in identities if i.kind == Identity.Kind.X and i.handle]
    emails = [i.value for i in identities if i.kind == Identity.Kind.EMAIL]
    return {
        "ticket.id": str(ticket.pk),
        "ticket.url": settings.SITE_URL + ticket.get_absolute_url(),
        "ticket.subject": ticket.subject,
        "ticket.status": ticket.get_status_display(),
        "ticket.priority": ticket.get_priority_display(),
        "ticket.channel": ticket.get_channel_display(),
        "ticket.tags": " ".join(sorted(tags)),
        "ticket.group": ticket.group.name if ticket.group else "",
        "ticket.assignee": str(ticket.assignee) if ticket.assignee else "",
        "requester.name": ticket.requester.name,
        "requester.first_name": first_word(ticket.requester.name),
        "requester.handle": f"@{handles[0]}" if handles else "",
        "requester.email": emails[0] if emails else "",
        "comment.body": comment.body if comment is not None else "",
        "comment.author": comment.author_name if comment is not None else "",
        "current_user.name": str(current_user) if current_user is not None else "",
        "current_user.first_name": (current_user.first_name or first_word(str(current_user)))
        if current_user is not None
        else "",
    }


def first_word(name: str) -> str:
    words = name.split()
    return words[0] if words else ""


def render(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)
