"""Work goes to queues by kind, and every queue has a worker wherever the helpdesk runs: the
Procfile's single worker (make run), the production Procfile's worker per queue, and the
workers the end-to-end tests and benchmarks start."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.conf import settings

from helpdesk.celery import app
from twitter_channel.tests import e2e_harness

ROOT = Path(__file__).resolve().parents[2]


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name, args=(), kwargs={})["queue"].name


def registered_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


@pytest.mark.parametrize(("task", "queue"), [
    ("twitter_channel.send_tasks.send_outgoing", "send"),
    ("tickets.mail.tasks.send_email_comment", "mail"),
    ("tickets.mail.tasks.send_notification", "mail"),
    ("tickets.mail.tasks.send_address_confirmation", "mail"),
    ("twitter_channel.tasks.poll_stream", "intake"),
    ("twitter_channel.realtime.tasks.process_activity_event", "intake"),
    ("twitter_channel.tasks.convert_items", "convert"),
    ("twitter_channel.send_tasks.bulk_convert_items", "convert"),
    ("helpdesk.tasks.heartbeat", "default"),
    ("tickets.tasks.sweep_outboxes", "default"),
])
def test_each_kind_of_work_goes_to_its_queue(task, queue):
    assert task in registered_tasks()
    assert queue_of(task) == queue


def test_every_task_goes_to_a_queue_that_workers_consume():
    assert {queue_of(name) for name in registered_tasks()} <= set(settings.WORK_QUEUES)


def test_sending_comes_before_conversion_for_a_worker_consuming_both():
    queues = list(settings.WORK_QUEUES)
    assert queues.index("send") < queues.index("convert")
    assert queues.index("mail") < queues.index("convert")
    assert queues.index("intake") < queues.index("convert")


def procfile(name: str) -> dict[str, list[str]]:
    lines = (ROOT / name).read_text().splitlines()
    return {key: shlex.split(command) for key, command in (line.split(":", 1) for line in lines if line.strip())}


def consumed(argv: list[str]) -> list[str]:
    if "bin/start-worker" in argv:
        return argv[argv.index("bin/start-worker") + 1].split(",")
    return argv[argv.index("-Q") + 1].split(",")


def test_make_run_has_one_worker_consuming_every_queue_most_urgent_first():
    processes = procfile("Procfile")
    workers = [argv for argv in processes.values() if "worker" in argv]
    assert len(workers) == 1
    assert consumed(workers[0]) == list(settings.WORK_QUEUES)


def test_production_runs_a_worker_per_kind_of_work_and_one_beat():
    processes = procfile("Procfile.production")
    workers = {name: consumed(argv) for name, argv in processes.items() if name.startswith("worker")}
    every = [queue for queues in workers.values() for queue in queues]
    assert sorted(every) == sorted(settings.WORK_QUEUES)  # each queue exactly once
    assert "convert" not in workers["worker-send"]
    assert [name for name, argv in processes.items() if "beat" in argv] == ["beat"]
    assert (ROOT / "bin/start-worker").stat().st_mode & 0o111


def test_the_start_script_names_its_queues():
    script = (ROOT / "bin/start-worker").read_text()
    assert re.search(r'-Q "\$QUEUES"', script)


def test_end_to_end_workers_consume_every_queue():
    assert e2e_harness.WORK_QUEUES == settings.WORK_QUEUES


def test_a_redis_broker_serves_queues_in_the_order_given():
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the filesystem broker of development has no queue order option")
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"
