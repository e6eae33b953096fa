"""Celery tasks of the email channel, registered with the worker and with the outbox by
TicketsConfig.ready (Celery's autodiscovery only looks at `tickets.tasks`)."""

from __future__ import annotations

from celery import shared_task

from . import notifications, outbound


@shared_task
def send_email_comment(comment_id: int) -> str:
    result = outbound.deliver(comment_id)
    if result.retry_in is not None:
        outbound.enqueue(comment_id, countdown=result.retry_in)
    return result.state


@shared_task
def send_notification(pk: int) -> str:
    result = notifications.deliver_notification(pk)
    if result.retry_in is not None:
        notifications.outbox.enqueue_after_commit(send_notification, pk, countdown=result.retry_in)
    return result.state


@shared_task(bind=True, max_retries=5)
def send_address_confirmation(self, confirmation_id: int) -> None:
    from smtplib import SMTPException

    from .capture import send_confirmation

    try:
        send_confirmation(confirmation_id)
    except (SMTPException, OSError) as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
