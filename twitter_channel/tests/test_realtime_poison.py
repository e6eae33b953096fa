"""The push path under a bad day: the broker away and hostile bodies. The webhook answers 200
once an event is stored, whatever the broker does (the sweeper processes it later); a signed
body nested 100,000 deep is a 400, and neither it nor anything else unreadable can make the
stream consumer, the sweeper or a retry crash in a loop."""

from __future__ import annotations

import time

import pytest

from helpdesk.celery import app
from tickets.models import Ticket
from twitter_channel.models import ActivityEvent, XAccount
from twitter_channel.realtime.intake import process_pending, record_event
from twitter_channel.realtime.stream_consumer import StreamConsumer

from .intake_helpers import BRAND_ID, tweet, user
from .realtime_helpers import deliver, mention_event

SECRET = "test-consumer-secret"
ALICE = user("111", "alice", "Alice A")
DEEP = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # an object, as X sends


@pytest.fixture(autouse=True)
def consumer_secret(settings):
    settings.X_WEBHOOK_CONSUMER_SECRET = SECRET
    settings.X_SWEEP_GRACE_SECONDS = 0


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                                   intake_mode=XAccount.IntakeMode.WEBHOOK)


@pytest.fixture
def broker_down():
    """Celery pointed at a port nobody listens on, as when Redis is stopped."""
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.task_always_eager = False  # the suite runs tasks in-process; here they must be sent
    _drop_connections()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    _drop_connections()


def _drop_connections():
    # The next publish opens a pool for the broker_url now configured.
    app._pool = None
    app.amqp._producer_pool = None


def test_event_is_acknowledged_while_the_broker_is_down_and_the_sweeper_processes_it(
    client, account, broker_down, django_capture_on_commit_callbacks
):
    post = tweet("@AcmeHelp my order is late", ALICE["id"])

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, mention_event(post, users=[ALICE]))

    assert response.status_code == 200
    assert time.monotonic() - started < 3  # no publish retries while X waits for the answer
    event = ActivityEvent.objects.get()
    assert event.state == "new" and not Ticket.objects.exists()
    # The broker is back; beat's sweeper finds the event its lost task never processed.
    stats = process_pending()
    assert stats.processed == 1
    assert Ticket.objects.get().subject == "my order is late"


def test_signed_body_nested_100000_deep_is_a_bad_request(client, account):
    response = deliver(client, DEEP)

    assert response.status_code == 400
    assert not ActivityEvent.objects.exists()


def test_deeply_nested_line_on_the_stream_is_kept_as_failed_not_a_crash(transactional_db):
    class Stream:
        def activity_stream(self, **kwargs):
            yield DEEP.decode()
            consumer.stop.set()
            yield ""

    XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                            intake_mode=XAccount.IntakeMode.STREAM)
    consumer = StreamConsumer(lambda: Stream(), idle_check_seconds=0)

    stats = consumer.run(max_seconds=10)

    assert stats.lines == 1 and stats.recorded == 1
    event = ActivityEvent.objects.get()
    assert event.state == "failed" and "nested" in event.detail


def test_retrying_a_deeply_nested_event_fails_it_again_without_a_crash(account, django_capture_on_commit_callbacks):
    record_event(DEEP.decode(), "stream")
    ActivityEvent.objects.update(state="new")  # what the quarantine page's Retry does

    stats = process_pending()

    assert stats.failed == 1
    assert ActivityEvent.objects.get().state == "failed"
