"""What a stored X item reads as on a ticket: its message, the ticket's subject, its author."""

from __future__ import annotations

import html
import re

from twitter_channel.models import IncomingItem

Kind = IncomingItem.Kind

SUBJECT_LENGTH = 80
LEADING_MENTIONS = re.compile(r"^(?:\s*@\w+)+\s*")


def body_for(item: IncomingItem) -> str:
    """The text as a person reads it: X's HTML entities decoded and t.co links (media
    included) replaced by where they lead. Templates escape it when showing it."""
    text = html.unescape(item.text or "")
    for short, expanded in item.urls or ():
        if short and expanded:
            text = text.replace(short, expanded)
    return text.strip() or "(no text)"


def subject_for(item: IncomingItem) -> str:
    text = " ".join(LEADING_MENTIONS.sub("", body_for(item)).split())
    if text and text != "(no text)":
        return text if len(text) <= SUBJECT_LENGTH else text[: SUBJECT_LENGTH - 1].rstrip() + "…"
    label = author_label(item)
    return {
        Kind.DM: f"Direct message from {label}",
        Kind.LIKE: f"Post by {label} liked",
    }.get(item.kind, f"Mention from {label}")


def author_label(item: IncomingItem, *, with_at: bool = True) -> str:
    if item.author_handle:
        return f"@{item.author_handle}" if with_at else (item.author_name or item.author_handle)
    return item.author_name or f"X user {item.author_x_id}"
