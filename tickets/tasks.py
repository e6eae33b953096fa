from celery import shared_task

from . import outbox


@shared_task
def sweep_outboxes() -> int:
    """Queue outgoing messages whose task never ran or died (tickets/outbox.py)."""
    return outbox.sweep_outboxes()
