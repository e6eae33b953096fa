"""Small display helpers of the ticket thread."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def initials(name: str) -> str:
    """What an avatar shows without a picture (or when X's fails to load): "Alice Wong" ->
    "AW", "@alice_w" -> "A", "" -> "?"."""
    words = [w for w in str(name or "").replace("@", " ").replace("_", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()
