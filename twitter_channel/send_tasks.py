"""Celery tasks of the answering side: sending to X and converting many items at once.

Imported by `tasks.py` so Celery's autodiscovery (which imports only `tasks` modules)
registers them.
"""

from __future__ import annotations

from celery import shared_task

from . import bulk_convert, sending


@shared_task
def send_outgoing(outgoing_id: int) -> str:
    result = sending.deliver(outgoing_id)
    if result.retry_in is not None:
        send_outgoing.apply_async((outgoing_id,), countdown=result.retry_in)
    return result.state


@shared_task
def bulk_convert_items(bulk_id: int) -> int:
    return bulk_convert.run_bulk_conversion(bulk_id).done
