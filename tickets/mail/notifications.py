"""Notification emails (triggers' "email the requester", "email the group") through the
outbox (tickets/outbox.py): a row written with the change that fired them, a task after
commit, the sweeper when that task never ran or died."""

from __future__ import annotations

import logging
import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage

from .. import outbox
from .models import OutgoingNotification
from .outbound import Delivery, PermanentEmailError, TransientEmailError, classify_smtp_error

log = logging.getLogger(__name__)

State = OutgoingNotification.State


def queue_notification(recipients: list[str], subject: str, body: str) -> OutgoingNotification:
    row = OutgoingNotification.objects.create(
        recipients=list(recipients), subject=subject[:255], body=body,
        message_id=make_msgid(domain=settings.REPLY_EMAIL_DOMAIN),
    )
    outbox.queue_delivery(OutgoingNotification, row.pk)
    return row


def deliver_notification(pk: int) -> Delivery:
    row = outbox.claim(OutgoingNotification, pk, stale_seconds=settings.EMAIL_SEND_STALE_SECONDS)
    if row is None:
        return Delivery(OutgoingNotification.objects.filter(pk=pk).values_list("state", flat=True).first() or "missing")
    message = EmailMessage(subject=row.subject, body=row.body, from_email=settings.DEFAULT_FROM_EMAIL,
                           to=row.recipients, headers={"Message-ID": row.message_id})
    try:
        try:
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise classify_smtp_error(exc) from exc
    except PermanentEmailError as exc:
        log.warning("Notification %s failed: %s", pk, exc)
        outbox.settle(row, State.FAILED, str(exc))
        return Delivery(State.FAILED)
    except TransientEmailError as exc:
        if row.attempts >= settings.EMAIL_SEND_MAX_ATTEMPTS:
            log.warning("Notification %s failed after %s attempts: %s", pk, row.attempts, exc)
            outbox.settle(row, State.FAILED, f"Gave up retrying after {row.attempts} attempts: {exc}")
            return Delivery(State.FAILED)
        wait = settings.EMAIL_SEND_BACKOFF_SECONDS * 2 ** (row.attempts - 1)
        outbox.settle(row, State.QUEUED, str(exc), next_attempt_in=wait)
        return Delivery(State.QUEUED, retry_in=wait)
    outbox.settle(row, State.SENT)
    return Delivery(State.SENT)
