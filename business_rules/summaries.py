"""Rules in words for the admin's lists: each condition and action by its labels
("Channel is X DM", "Set group Billing"), the way the change page's rows name them."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join


def conditions_summary(conditions) -> str:
    """ALL conditions joined by "and", ANY conditions by "or", one per line."""
    every = [str(c) for c in conditions if c.kind == "all"]
    some = [str(c) for c in conditions if c.kind == "any"]
    lines = [(("" if i == 0 else "and ") + text,) for i, text in enumerate(every)]
    lines += [((("and any of: " if every else "any of: ") if i == 0 else "or ") + text,) for i, text in enumerate(some)]
    return format_html_join("", "<div>{}</div>", lines) or format_html("<span>{}</span>", "every ticket")


def actions_summary(actions) -> str:
    return format_html_join("", "<div>{}</div>", ((str(a),) for a in actions))
