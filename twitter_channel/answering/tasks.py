"""Celery task of the answering side: sending to X.

Imported by `twitter_channel/tasks.py` so Celery's autodiscovery (which imports only `tasks` modules)
registers them.
"""

from __future__ import annotations

from celery import shared_task

from twitter_channel.answering import sending


# Named as before this task moved here from send_tasks.py: messages queued by an older
# release must still find it (CELERY_TASK_ROUTES uses the same name).
@shared_task(name="twitter_channel.send_tasks.send_outgoing")
def send_outgoing(outgoing_id: int) -> str:
    result = sending.deliver(outgoing_id)
    if result.retry_in is not None:
        send_outgoing.apply_async((outgoing_id,), countdown=result.retry_in)
    return result.state

