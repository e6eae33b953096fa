"""Celery tasks of the email channel, registered with the worker by
`outbound.register_email_sender` (called from TicketsConfig.ready)."""

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
