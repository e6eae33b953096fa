from celery import shared_task

from . import outbox
from .lifecycle import close_solved_tickets as close_solved


@shared_task
def close_solved_tickets() -> int:
    return close_solved()


@shared_task
def sweep_outboxes() -> int:
    """Queue outgoing messages whose task never ran or died (tickets/outbox.py)."""
    return outbox.sweep_outboxes()
