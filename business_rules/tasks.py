from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import send_mail

from .automations.run import exclusive_pass
from .automations.run import run_automations as run_pass
from .models import RulesVersion
from .sla.refresh import SLA, recompute_open_tickets

logger = logging.getLogger(__name__)


@shared_task
def send_trigger_email(recipients: list[str], subject: str, body: str) -> None:
    """Send a trigger's notification; from DEFAULT_FROM_EMAIL.

    No longer queued (notifications go through the outbox, tickets/mail/notifications.py);
    kept so that tasks queued before that change still run after a deploy."""
    send_mail(subject, body, None, recipients)


@shared_task
def run_automations() -> int:
    """One pass of the automations (beat, every AUTOMATIONS_INTERVAL_SECONDS)."""
    with exclusive_pass() as mine:
        if not mine:
            logger.info("An automation pass is still running; this one is skipped")
            return 0
        return run_pass().total


@shared_task
def recompute_sla_clocks(stamp: int | None = None) -> int:
    """Recompute open tickets' clocks after SLA policies changed. `stamp`: the policies'
    version this was enqueued for; an older one is skipped, a newer change enqueued its own."""
    if stamp is not None and RulesVersion.current(SLA) != stamp:
        return 0
    return recompute_open_tickets()
