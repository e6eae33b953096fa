"""A health endpoint for load balancers, monitors and `make run`: the database and the broker
answer, and beat and the workers are alive (their heartbeats, helpdesk/heartbeat.py)."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse

from . import heartbeat
from .celery import app as celery_app


def health(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is "down", reported by type only
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {type(exc).__name__}"
    if checks["database"] == "ok":
        checks.update(heartbeat.liveness())
    else:
        checks.update({heartbeat.BEAT: "unknown: no database", heartbeat.WORKER: "unknown: no database"})
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
