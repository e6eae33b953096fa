"""The queue navigation, as a tag so that pages from other apps (the X channel's) that extend
base.html get it without having to put queue lists into their own contexts."""

from __future__ import annotations

from django import template

from tickets.models import Channel
from tickets.queues import QUEUES

register = template.Library()


@register.inclusion_tag("tickets/_queue_nav.html", takes_context=True)
def queue_nav(context) -> dict:
    return {
        "queue_links": [(slug, queue.label) for slug, queue in QUEUES.items()],
        "channel_links": Channel.choices,
        "current_queue": context.get("current_queue"),
        "current_channel": context.get("current_channel"),
    }
