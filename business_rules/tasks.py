from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail


@shared_task
def send_trigger_email(recipients: list[str], subject: str, body: str) -> None:
    """Send a trigger's notification; from DEFAULT_FROM_EMAIL.

    No longer queued (notifications go through the outbox, tickets/mail/notifications.py);
    kept so that tasks queued before that change still run after a deploy."""
    send_mail(subject, body, None, recipients)
