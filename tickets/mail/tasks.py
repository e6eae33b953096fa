"""Celery tasks of the email channel, registered with the worker by
`outbound.register_email_sender` (called from TicketsConfig.ready)."""

from __future__ import annotations

from celery import shared_task

from .outbound import TransientEmailError, deliver


@shared_task(bind=True, max_retries=5)
def send_email_comment(self, comment_id: int) -> None:
    try:
        deliver(comment_id, last_attempt=self.request.retries >= self.max_retries)
    except TransientEmailError as exc:
        # 1, 2, 4, 8, 16 minutes: rides out a mail server restart without hammering it.
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(bind=True, max_retries=5)
def send_address_confirmation(self, confirmation_id: int) -> None:
    from smtplib import SMTPException

    from .capture import send_confirmation

    try:
        send_confirmation(confirmation_id)
    except (SMTPException, OSError) as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
