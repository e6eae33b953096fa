"""`/metrics` speaks Prometheus' text format behind a token, with the intake's lag histograms,
items stored, converted and quarantined, 429s and back-offs, webhook deliveries, the reply
outbox, Celery's queue lengths and the cost meter's counters; the system page shows the same
figures to admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring import metrics
from tickets.models import User
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.costs import meter as cost_meter
from twitter_channel.intake import polling
from twitter_channel.intake.store import insert_new_items
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.x.pricing import Charge, CostStream, Kind
from twitter_channel.x.types import XRateLimited, XTransientError

TOKEN = "scrape-me-please"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture
def account(db):
    account = XAccount.objects.create(user_id="900", username="AcmeHelp", access_token="t")
    ensure_cursors(account)
    return account


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {f.name: f.samples for f in text_string_to_metric_families(response.content.decode())}


def value(samples, name: str, **labels) -> float:
    matching = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert matching, f"no {name} {labels} in {samples}"
    return sum(matching)


def test_without_the_token_metrics_are_refused(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 403  # off
    settings.METRICS_TOKEN = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_a_logged_in_admin_still_needs_the_token(client, db, token):
    client.force_login(AdminFactory())
    assert client.get("/metrics").status_code == 401


def rows(account, lags_seconds, kind=IncomingItem.Kind.MENTION):
    now = timezone.now()
    return [IncomingItem(account=account, kind=kind, x_id=str(1000 + i), raw={}, fetched_at=now,
                         x_created_at=now - timedelta(seconds=lag)) for i, lag in enumerate(lags_seconds)]


def test_intake_lag_histogram_and_items_stored_per_account_and_stream(client, account, token,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # counted once the items are committed
        insert_new_items(rows(account, [0.5, 4, 40]))
        insert_new_items(rows(account, [0.5, 4, 40]))  # the same items again: stored once, observed once
        insert_new_items(rows(account, [3], kind=IncomingItem.Kind.DM))
    samples = scrape(client)
    lag = samples["helpdesk_x_intake_lag_seconds"]
    assert value(lag, "helpdesk_x_intake_lag_seconds_bucket", account="AcmeHelp", stream="mentions", le="1.0") == 1
    assert value(lag, "helpdesk_x_intake_lag_seconds_bucket", account="AcmeHelp", stream="mentions", le="5.0") == 2
    assert value(lag, "helpdesk_x_intake_lag_seconds_bucket", account="AcmeHelp", stream="mentions", le="+Inf") == 3
    assert value(lag, "helpdesk_x_intake_lag_seconds_count", account="AcmeHelp", stream="dms") == 1
    assert value(lag, "helpdesk_x_intake_lag_seconds_sum", account="AcmeHelp", stream="mentions") == \
        pytest.approx(44.5, abs=0.5)
    stored = samples["helpdesk_x_items_stored"]
    assert value(stored, "helpdesk_x_items_stored_total", account="AcmeHelp", stream="mentions") == 3
    states = samples["helpdesk_x_items"]
    assert value(states, "helpdesk_x_items", account="AcmeHelp", state="new") == 4


def test_quarantined_items(client, account, token):
    IncomingItem.objects.create(account=account, kind="mention", x_id="1", raw={}, state="quarantined")
    samples = scrape(client)
    assert value(samples["helpdesk_x_quarantined_items"], "helpdesk_x_quarantined_items", account="AcmeHelp") == 1


class Failing:
    def __init__(self, error):
        self.error = error

    def client_for(self, account):
        return self

    def get_mentions(self, *args, **kwargs):
        raise self.error

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def test_429s_and_back_offs_are_counted(client, account, token):
    polling.poll_stream(account.pk, "mentions",
                        client_factory=Failing(XRateLimited("Too Many Requests")).client_for)
    polling.poll_stream(account.pk, "mentions", client_factory=Failing(XTransientError("503")).client_for)
    polling.poll_stream(account.pk, "mentions", client_factory=Failing(XTransientError("503")).client_for)
    samples = scrape(client)
    assert value(samples["helpdesk_x_rate_limited"], "helpdesk_x_rate_limited_total", account="AcmeHelp",
                 stream="mentions") == 1
    assert value(samples["helpdesk_x_backoffs"], "helpdesk_x_backoffs_total", account="AcmeHelp",
                 stream="mentions") == 2


def test_webhook_deliveries_and_refusals(client, db, token):
    assert client.post("/x/webhook/", data=b'{"data": {}}', content_type="application/json").status_code == 403
    samples = scrape(client)
    assert value(samples["helpdesk_x_webhook_deliveries"], "helpdesk_x_webhook_deliveries_total",
                 outcome="refused", status="403") == 1


def test_cost_counters(client, account, token):
    cost_meter.record(account.pk, [Charge(Kind.POST_WITH_URL_WRITE, CostStream.LINKS)] * 2)
    samples = scrape(client)
    assert value(samples["helpdesk_x_cost_dollars"], "helpdesk_x_cost_dollars_total", account="AcmeHelp",
                 kind="post_url_write") == pytest.approx(0.4)
    assert value(samples["helpdesk_x_billed_items"], "helpdesk_x_billed_items_total", account="AcmeHelp",
                 kind="post_url_write") == 2


def test_celery_queue_lengths_come_from_the_broker(client, db, token, monkeypatch):
    if not django_settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the queue length is read from Redis")
    queue = "metrics-test-queue"
    monkeypatch.setattr(metrics, "CELERY_QUEUES", (queue,))
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    broker.delete(queue)
    broker.rpush(queue, "a", "b", "c")
    try:
        samples = scrape(client)
    finally:
        broker.delete(queue)
    assert value(samples["helpdesk_celery_queue_length"], "helpdesk_celery_queue_length", queue=queue) == 3


def test_the_system_page_shows_the_same_figures_to_admins_only(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        insert_new_items(rows(account, [2]))
    client.force_login(UserFactory(role=User.Role.AGENT))
    assert client.get(reverse("monitoring:system")).status_code == 404
    client.force_login(AdminFactory())
    page = client.get(reverse("monitoring:system")).content.decode()
    assert 'data-metric="helpdesk_x_intake_lag_seconds"' in page
    assert "helpdesk_x_items_stored_total" in page and "account=AcmeHelp, stream=mentions" in page


def test_outbox_depth_and_age_and_heartbeats(client, db, token):
    from helpdesk import heartbeat
    from tickets.mail.models import OutgoingEmail
    from tickets.tests.factories import CommentFactory

    OutgoingEmail.objects.create(comment=CommentFactory(), created_at=timezone.now() - timedelta(seconds=90))
    OutgoingEmail.objects.create(comment=CommentFactory(), state="sent")
    heartbeat.stamp(heartbeat.WORKER, timezone.now() - timedelta(seconds=42))
    samples = scrape(client)
    depth = samples["helpdesk_outbox_messages"]
    assert value(depth, "helpdesk_outbox_messages", outbox="tickets.OutgoingEmail", state="queued") == 1
    assert value(depth, "helpdesk_outbox_messages", outbox="tickets.OutgoingEmail", state="sent") == 1
    ages = samples["helpdesk_outbox_oldest_undelivered_seconds"]
    assert value(ages, "helpdesk_outbox_oldest_undelivered_seconds", outbox="tickets.OutgoingEmail") == \
        pytest.approx(90, abs=10)
    assert value(ages, "helpdesk_outbox_oldest_undelivered_seconds", outbox="twitter_channel.OutgoingMessage") == 0
    assert value(samples["helpdesk_heartbeat_age_seconds"], "helpdesk_heartbeat_age_seconds",
                 process="worker") == pytest.approx(42, abs=5)
