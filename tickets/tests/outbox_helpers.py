"""A broker that is down, for the outbox tests: the Celery app stops running tasks in-process
and publishes to a port where nothing listens, as when Redis is stopped."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from datetime import timedelta

from helpdesk.celery import app as celery_app


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _forget_connections() -> None:
    # The app keeps a connection pool to the broker it published to last.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_down():
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.broker_transport_options
    conf.task_always_eager = False
    conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    conf.broker_transport_options = {}
    _forget_connections()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url, conf.broker_transport_options = saved
        _forget_connections()


def time_passes(seconds: float) -> None:
    """Move every outbox row's clock `seconds` back, as if that much time had passed."""
    from django.db.models import F

    from tickets.outbox import _outboxes

    delta = timedelta(seconds=seconds)
    for outbox in _outboxes.values():
        outbox.model.objects.update(next_attempt_at=F("next_attempt_at") - delta, created_at=F("created_at") - delta)
        outbox.model.objects.filter(last_attempt_at__isnull=False).update(
            last_attempt_at=F("last_attempt_at") - delta)
