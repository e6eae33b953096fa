from celery import shared_task

from . import heartbeat


@shared_task(name="helpdesk.tasks.heartbeat")
def heartbeat_task() -> None:
    """Sent by beat, run by a worker: proves both are alive (helpdesk/heartbeat.py)."""
    heartbeat.stamp(heartbeat.WORKER)
