"""How people are named on the requester-facing pages."""

from __future__ import annotations

from django import template

register = template.Library()

TEAM = "Support team"


@register.filter
def public_author(comment) -> str:
    """Agents by first name only (their full names are none of a visitor's business; anyone
    holding a ticket link sees the page); requesters as they are known on X."""
    if comment.author_user_id:
        return comment.author_user.first_name or TEAM
    if comment.author_requester_id:
        return str(comment.author_requester)
    return TEAM  # the brand's own posts, made outside the helpdesk
