"""/health/ reports the database, the broker, and whether beat and the workers are alive
(their heartbeats), so a beat or worker that stopped is noticed, not only a web that did."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk import heartbeat
from helpdesk.celery import app as celery_app
from helpdesk.models import Heartbeat
from helpdesk.tasks import heartbeat_task
from tickets.tests.outbox_helpers import broker_down

pytestmark = pytest.mark.django_db


def health(client) -> tuple[int, dict]:
    response = client.get("/health/")
    return response.status_code, response.json()["checks"]


def test_health_is_ok_when_database_broker_beat_and_workers_answer(client):
    heartbeat.stamp(heartbeat.BEAT)
    heartbeat_task.delay()  # sent by beat, run by a worker

    assert health(client) == (200, {"database": "ok", "broker": "ok", "beat": "ok", "worker": "ok"})


def test_a_worker_that_stopped_fails_health_and_says_which(client, settings):
    settings.HEARTBEAT_SECONDS = 15
    heartbeat.stamp(heartbeat.BEAT)
    heartbeat.stamp(heartbeat.WORKER, now=timezone.now() - timedelta(seconds=75))

    status, checks = health(client)

    assert status == 503
    assert checks["beat"] == "ok" and checks["worker"].startswith("error: silent for 7")


def test_beat_never_seen_fails_health(client):
    status, checks = health(client)

    assert status == 503 and checks["beat"] == "error: never seen" and checks["worker"] == "error: never seen"


def test_a_broker_that_is_down_fails_health(client):
    heartbeat.stamp(heartbeat.BEAT)
    heartbeat.stamp(heartbeat.WORKER)
    with broker_down():
        status, checks = health(client)

    assert status == 503 and checks["broker"].startswith("error") and checks["database"] == "ok"


@pytest.mark.django_db(transaction=True)  # beat runs outside any transaction, and drops stale connections
def test_beat_stamps_its_heartbeat_as_it_ticks(tmp_path, settings):
    settings.HEARTBEAT_SECONDS = 2
    scheduler = heartbeat.StampingScheduler(app=celery_app, schedule_filename=str(tmp_path / "schedule"))
    scheduler.schedule.clear()  # tick without sending the real schedule's tasks

    try:
        wait = scheduler.tick()
    finally:
        scheduler.close()

    assert Heartbeat.objects.get(name="beat").at > timezone.now() - timedelta(seconds=5)
    assert wait <= 2  # beat wakes up in time for the next stamp, whatever else is due


def test_beat_runs_the_stamping_scheduler_and_sends_the_heartbeat(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "helpdesk.heartbeat:StampingScheduler"
    assert settings.CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == "helpdesk.tasks.heartbeat"


def test_admins_see_the_heartbeats_read_only(client):
    from tickets.tests.factories import AdminFactory

    heartbeat.stamp(heartbeat.BEAT)
    client.force_login(AdminFactory())
    page = client.get("/admin/helpdesk/heartbeat/")
    assert page.status_code == 200 and "beat" in page.content.decode()
    assert client.get("/admin/helpdesk/heartbeat/add/").status_code == 403
