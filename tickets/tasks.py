from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import outbox
from .lifecycle import close_solved_tickets as close_solved
from .mail.retention import delete_raw_emails_received_before


@shared_task
def close_solved_tickets() -> int:
    return close_solved()


@shared_task
def sweep_outboxes() -> int:
    """Queue outgoing messages whose task never ran or died (tickets/outbox.py)."""
    return outbox.sweep_outboxes()


@shared_task
def delete_expired_raw_emails() -> int:
    if not settings.RAW_RETENTION_DAYS:
        return 0
    return delete_raw_emails_received_before(timezone.now() - timedelta(days=settings.RAW_RETENTION_DAYS))
