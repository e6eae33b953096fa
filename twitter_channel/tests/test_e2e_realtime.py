"""Real time end to end, every part a real process: the sandbox pushes signed webhooks over HTTP
to the helpdesk's web server (gunicorn), which stores each event and queues it in Redis; a real
Celery worker and beat process and convert them in PostgreSQL. The test only acts on X and
watches the database."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from tickets.models import Channel, Comment, Ticket
from twitter_channel.accounts import health
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.models import ActivityEvent, IncomingItem, XAccount
from twitter_channel.realtime import subscriptions
from twitter_channel.x import api as x_api
from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN, DEFAULT_CONSUMER_SECRET
from xsandbox.testing import running_sandbox

from .e2e_harness import ROOT, CeleryProcesses, WebProcess, database_url, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROKER_DB = 14


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(rate_limits="unlimited") as sb:
        yield sb


@pytest.fixture(scope="module")
def stack(sandbox, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
    celery = CeleryProcesses(db_url=db_url, broker_db=BROKER_DB, x_base_url=sandbox.base_url, extra_env={
        "X_WEBHOOK_CONSUMER_SECRET": DEFAULT_CONSUMER_SECRET,
        "X_APP_BEARER_TOKEN": DEFAULT_APP_BEARER_TOKEN,
        "X_POLL_DISPATCH_SECONDS": "0.5",
        "X_SWEEP_GRACE_SECONDS": "2",
        "X_SWEEP_INTERVAL_SECONDS": "2",
        # Reconciliation polls far apart: what arrives here arrives by push.
        "X_REALTIME_RECONCILE_SECONDS": "600",
    }).start()
    web = WebProcess(celery.env).start()
    yield celery, web
    web.stop()
    celery.stop()


@pytest.fixture
def brand(sandbox, stack, settings):
    _, web = stack
    sandbox.reset()
    settings.X_API_BASE_URL = sandbox.base_url
    settings.X_WEBHOOK_URL = web.url + "/x/webhook/"
    settings.X_APP_BEARER_TOKEN = DEFAULT_APP_BEARER_TOKEN
    x_api.forget_vocabularies()
    user = sandbox.create_user("AcmeSupport", name="Acme Support", brand=True)
    account = XAccount.objects.create(user_id=user["id"], username="AcmeSupport",
                                      access_token=sandbox.mint_token(user["id"])["access_token"])
    ensure_cursors(account)
    return subscriptions.switch_intake_mode(account, XAccount.IntakeMode.WEBHOOK)


def ticket_with(x_id: str, timeout: float = 15) -> Ticket:
    comment = wait_for(lambda: Comment.objects.filter(external_id=x_id).select_related("ticket").first(), timeout,
                       what=f"a comment for {x_id}")
    return comment.ticket


def test_mention_like_and_dm_are_pushed_into_tickets_within_seconds(sandbox, brand):
    alice = sandbox.create_user("alice", name="Alice")
    started = time.monotonic()
    mention = sandbox.post_tweet(alice["id"], "@AcmeSupport my order is late")
    post = sandbox.post_tweet(alice["id"], "Loving the new Acme app")
    sandbox.like(brand.user_id, post["id"])
    dm = sandbox.send_dm(alice["id"], "I was charged twice", recipient=brand.user_id)

    channels = [ticket_with(x_id).channel for x_id in (mention["id"], post["id"], dm["id"])]

    assert time.monotonic() - started < 10
    assert channels == [Channel.X, Channel.X_LIKE, Channel.X_DM]
    # A reconciliation poll may store an item first and so make its ticket: the pushed event
    # that brings it too may still be on its way, so wait for the events, not for the tickets.
    wait_for(lambda: set(ActivityEvent.objects.values_list("event_type", "state")) == {
        ("post.mention.create", "processed"), ("like.create", "processed"), ("dm.received", "processed")},
        15, what="all three events processed")
    # Push brought every item, whichever stored it first.
    assert health.missed_by_push(brand, now=timezone.now() + health.PUSH_GRACE) == 0


def test_stream_mode_with_the_x_stream_process(sandbox, brand, stack):
    celery, _ = stack
    subscriptions.switch_intake_mode(brand, XAccount.IntakeMode.STREAM)
    consumer = subprocess.Popen([sys.executable, "manage.py", "x_stream"], cwd=ROOT, env=celery.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: sandbox.activity_state()["open_streams"] == 1, 20, what="the stream connected")
        alice = sandbox.create_user("alice")

        mention = sandbox.post_tweet(alice["id"], "@AcmeSupport streamed to you")
        dm = sandbox.send_dm(alice["id"], "and a streamed DM", recipient=brand.user_id)

        assert [ticket_with(x_id).channel for x_id in (mention["id"], dm["id"])] == [Channel.X, Channel.X_DM]
        assert set(ActivityEvent.objects.values_list("source", flat=True)) == {"stream"}
    finally:
        consumer.terminate()
        output, _ = consumer.communicate(timeout=10)
    assert "x_stream: 1 connection(s)" in output and "2 new event(s)" in output


def test_killed_worker_loses_nothing_and_doubles_nothing_of_a_pushed_burst(sandbox, brand, stack):
    celery, _ = stack
    # Big enough that the worker is still converting when it is killed: tickets are committed
    # a claimed batch at a time, and 300 were once all in before the kill landed.
    burst = 1000
    authors = [sandbox.create_user(f"fan{i}")["id"] for i in range(20)]
    sandbox.load_scenario({"tweets": [{"author": authors[i % 20], "text": f"@AcmeSupport problem number {i}"}
                                      for i in range(burst)]})
    wait_for(lambda: Ticket.objects.count() >= 30, 60, interval=0.05, what="conversion under way")
    celery.kill_worker()
    assert Ticket.objects.count() < burst, "the burst finished before the kill; the test proves nothing"
    celery.start_worker()

    def progress() -> str:
        events = dict(ActivityEvent.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
        items = dict(IncomingItem.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
        return f"events {events}, items {items}, tickets {Ticket.objects.count()}\n{celery.logs()}"

    wait_for(lambda: ActivityEvent.objects.filter(state="processed").count() == burst
             and not IncomingItem.objects.filter(state="new").exists(), 120, interval=0.5,
             what="every pushed event processed and converted after the restart", describe=progress)

    assert ActivityEvent.objects.count() == burst
    assert IncomingItem.objects.filter(kind="mention", state="ticketed").count() == burst
    assert Ticket.objects.count() == burst
    assert not Ticket.objects.annotate(n=Count("comments")).exclude(n=1).exists()
