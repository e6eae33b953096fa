"""Two beats running at once double nothing: every periodic task of CELERY_BEAT_SCHEDULE, run
twice at the same moment (threads, each with its own database connection, the tasks they
queue run in-process), has the effect of running it once. A periodic task added to the
schedule without such a proof fails `test_every_periodic_task_is_proven_here`."""

from __future__ import annotations

import functools
import json
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from business_rules.tasks import run_automations
from business_rules.tests.helpers import make_automation
from helpdesk import heartbeat
from helpdesk.models import Heartbeat
from helpdesk.tasks import heartbeat_task
from tickets.mail import outbound
from tickets.models import Channel, Comment, Ticket
from tickets.outbox import SWEEP_BATCH
from tickets.tasks import sweep_outboxes
from tickets.tests.factories import EmailIdentityFactory, RequesterFactory, TicketFactory, UserFactory
from tickets.tests.outbox_helpers import broker_down, time_passes
from twitter_channel import tasks as x_tasks
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.models import ActivityEvent, IncomingItem, StreamCursor, WebhookHealth, XAccount
from twitter_channel.realtime import intake, watch
from twitter_channel.realtime.tasks import sweep_activity_events
from twitter_channel.tests.intake_helpers import BRAND_ID, tweet, user
from twitter_channel.tests.realtime_helpers import mention_event

pytestmark = pytest.mark.django_db(transaction=True)

PROVEN = {
    "business_rules.tasks.run_automations",
    "tickets.tasks.sweep_outboxes",
    "helpdesk.tasks.heartbeat",
    "twitter_channel.tasks.dispatch_polls",
    "twitter_channel.tasks.sweep_unconverted",
    "twitter_channel.realtime.tasks.sweep_activity_events",
    "twitter_channel.realtime.tasks.watch_webhook",
    "twitter_channel.tasks.prune_cost_seen_items",
    "dashboard.tasks.snapshot_backlog",
}


def twice_at_once(task, *args) -> list:
    """Run `task` in two threads released together; returns both results."""
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait(5)
            results.append(task(*args))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return results


def test_every_periodic_task_is_proven_here():
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= PROVEN


def test_two_automation_passes_close_each_solved_ticket_once():
    # The shipped automation, made here: a transactional test starts from a flushed database.
    make_automation(
        "Close solved tickets after 4 days",
        all=[("status", "is", "solved"), ("hours_since_status_changed", "greater_than", "96")],
        actions=[("set_status", "closed")],
    )
    old = timezone.now() - timedelta(days=5)
    TicketFactory.create_batch(20, status=Ticket.Status.SOLVED, solved_at=old, status_changed_at=old)

    assert sum(twice_at_once(run_automations)) == 20
    assert Ticket.objects.filter(status=Ticket.Status.CLOSED).count() == 20


def test_two_outbox_sweeps_send_each_email_once(settings):
    requester = RequesterFactory()
    EmailIdentityFactory(requester=requester, value="ann@example.com")
    agent = UserFactory()
    tickets = TicketFactory.create_batch(10, requester=requester, channel=Channel.EMAIL)
    with broker_down():  # their tasks never reached a queue
        comments = [outbound.send_email_reply(t, f"Answer {t.pk}", author=agent) for t in tickets]
    assert mail.outbox == []
    time_passes(settings.OUTBOX_SWEEP_GRACE_SECONDS + 1)

    queued = twice_at_once(sweep_outboxes)

    assert 10 <= sum(queued) <= 2 * min(10, SWEEP_BATCH)
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == sorted(c.external_id for c in comments)
    assert set(Comment.objects.filter(pk__in=[c.pk for c in comments]).values_list("delivery", flat=True)) == {"sent"}


def test_two_heartbeats_stamp_one_row():
    twice_at_once(heartbeat_task)
    twice_at_once(heartbeat.stamp, heartbeat.BEAT)

    assert Heartbeat.objects.count() == 2
    assert heartbeat.liveness() == {"beat": "ok", "worker": "ok"}


def test_two_dispatchers_claim_each_due_stream_once(monkeypatch):
    accounts = [XAccount.objects.create(user_id=str(900 + i), username=f"brand{i}", access_token="tok")
                for i in range(5)]
    for account in accounts[:2]:
        ensure_cursors(account)  # the other three get theirs from the dispatchers themselves
    dispatched = []
    monkeypatch.setattr(x_tasks.poll_stream, "delay", lambda account_id, stream: dispatched.append((account_id,
                                                                                                    stream)))

    twice_at_once(x_tasks.dispatch_polls)

    assert StreamCursor.objects.count() == 15
    assert sorted(dispatched) == sorted(set(dispatched)) and len(dispatched) == 15


def test_two_sweeps_of_unconverted_items_make_each_one_ticket(settings):
    from twitter_channel.tests.test_convert_concurrently import stored_mentions

    stored_mentions(40)  # polled without the poll task, which would queue their conversion: as if its worker died
    IncomingItem.objects.update(fetched_at=timezone.now() - timedelta(seconds=settings.X_SWEEP_GRACE_SECONDS + 1))
    new = IncomingItem.objects.filter(state="new").count()

    twice_at_once(x_tasks.sweep_unconverted)
    x_tasks.convert_items()  # replies deferred behind a parent the other sweep held

    assert not IncomingItem.objects.filter(state="new").exists()
    assert Ticket.objects.count() == new - 5  # five replies joined the first post's ticket
    assert Comment.objects.count() == new


def test_two_sweeps_of_pushed_events_make_each_one_ticket(settings):
    XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                            intake_mode=XAccount.IntakeMode.WEBHOOK)
    alice = user("111", "alice", "Alice A")
    for i in range(30):
        body = mention_event(tweet(f"@AcmeHelp order {i} is late", alice["id"]), users=[alice])
        intake.record_event(json.dumps(body), ActivityEvent.Source.WEBHOOK)
    ActivityEvent.objects.update(received_at=timezone.now() - timedelta(seconds=settings.X_SWEEP_GRACE_SECONDS + 1))

    twice_at_once(sweep_activity_events)

    assert set(ActivityEvent.objects.values_list("state", flat=True)) == {"processed"}
    assert Ticket.objects.count() == 30 and Comment.objects.count() == 30


def test_two_webhook_watches_ask_x_for_one_replay(settings, monkeypatch):
    settings.X_WEBHOOK_URL = "https://help.example.com/x/webhook/"
    XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                            intake_mode=XAccount.IntakeMode.WEBHOOK)
    WebhookHealth.objects.create(url=settings.X_WEBHOOK_URL, last_ok_at=timezone.now() - timedelta(hours=1),
                                 down_since=timezone.now() - timedelta(minutes=30))
    replays = []

    def slow_check(url):  # X's CRC challenge takes a moment: the watches overlap
        time.sleep(0.5)
        return ""

    monkeypatch.setattr(watch.subscriptions, "replay_window",
                        lambda start, end, app=None: replays.append((start, end)) or "job1")

    results = twice_at_once(functools.partial(watch.watch_webhook, check=slow_check))

    assert sorted(results) == ["busy", "replayed"]
    assert len(replays) == 1


# --- compliance and retention (twitter_channel/compliance, tickets/mail/retention) ------------


class FakeComplianceX:
    """X's compliance endpoints, counting the jobs made; every job is complete at once and
    reports one deleted post."""

    def __init__(self, deleted_id: str):
        self.deleted_id = deleted_id
        self.created: list[str] = []
        self.lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def create_compliance_job(self, job_type, *, name=""):
        from twitter_channel.x.compliance_types import ComplianceJob

        with self.lock:
            self.created.append(job_type)
        return ComplianceJob(id=f"job-{job_type}", type=job_type, status="created", upload_url="u", download_url="d")

    def upload_compliance_ids(self, job, ids):
        return sum(1 for _ in ids)

    def get_compliance_job(self, job_id):
        from twitter_channel.x.compliance_types import ComplianceJob

        return ComplianceJob(id=job_id, type=job_id.removeprefix("job-"), status="complete", upload_url="u",
                             download_url="d")

    def compliance_results(self, job):
        from twitter_channel.x.compliance_types import ComplianceChange

        if job.type == "tweets":
            yield ComplianceChange(id=self.deleted_id, action="delete")


PROVEN |= {
    "twitter_channel.tasks.start_compliance_jobs",
    "twitter_channel.tasks.check_compliance_jobs",
    "twitter_channel.tasks.delete_expired_raw_x_json",
    "tickets.tasks.delete_expired_raw_emails",
}


@pytest.fixture
def compliance_x(monkeypatch):
    fake = FakeComplianceX(deleted_id="1900000000000000001")
    monkeypatch.setattr(x_tasks, "app_client", lambda: fake)
    return fake


def test_two_compliance_starts_make_one_job_of_each_type(compliance_x):
    assert sum(twice_at_once(x_tasks.start_compliance_jobs)) == 2
    assert sorted(compliance_x.created) == ["tweets", "users"]


def test_two_compliance_checks_apply_each_result_once(compliance_x):
    from twitter_channel.models import ComplianceJobRun, XDeletion

    account = XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp")
    IncomingItem.objects.create(account=account, kind="mention", x_id=compliance_x.deleted_id, text="secret",
                                raw={"id": compliance_x.deleted_id, "text": "secret"}, state="ignored")
    x_tasks.start_compliance_jobs()

    assert sum(twice_at_once(x_tasks.check_compliance_jobs)) == 1
    assert XDeletion.objects.get().items_redacted == 1
    assert list(ComplianceJobRun.objects.values_list("attempts", flat=True)) == [2, 2]  # started, applied once


def test_two_retention_runs_delete_each_raw_once(settings, tmp_path):
    from tickets.mail.inbound import ingest_email
    from tickets.mail.models import InboundEmail
    from tickets.mail.testing import build_email
    from tickets.tasks import delete_expired_raw_emails

    settings.MEDIA_ROOT = tmp_path
    settings.RAW_RETENTION_DAYS = 30
    for n in range(5):
        ingest_email(build_email(subject=f"Old {n}"))
    InboundEmail.objects.update(received_at=timezone.now() - timedelta(days=31))
    account = XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp")
    IncomingItem.objects.create(account=account, kind="mention", x_id="1", text="old", raw={"id": "1", "text": "old"},
                                fetched_at=timezone.now() - timedelta(days=31))

    twice_at_once(delete_expired_raw_emails)
    twice_at_once(x_tasks.delete_expired_raw_x_json)

    assert not InboundEmail.objects.exclude(raw="").exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*.eml"))
    assert IncomingItem.objects.get().raw == {"id": "1", "expired": "raw JSON deleted after the retention period"}


def test_two_prunes_of_the_cost_meters_seen_items_forget_each_earlier_day_once():
    from twitter_channel.costs.models import XCostSeenItem

    today = timezone.now().date()
    XCostSeenItem.objects.bulk_create([XCostSeenItem(day=today - timedelta(days=1), item=f"post:{n}")
                                       for n in range(50)] + [XCostSeenItem(day=today, item="post:1")])

    assert sum(twice_at_once(x_tasks.prune_cost_seen_items)) == 50
    assert list(XCostSeenItem.objects.values_list("item", flat=True)) == ["post:1"]


# --- requesters' profile subscriptions (twitter_channel/realtime/requester_profiles.py) ---------


PROVEN |= {"twitter_channel.realtime.tasks.sync_requester_profile_subscriptions"}


class FakeActivityX:
    """X's subscription endpoints, slow enough for two syncs to overlap, counting what is made."""

    def __init__(self):
        self.created: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def create_activity_subscription(self, event_type, user_id, *, direction="", webhook_id="", tag=""):
        from twitter_channel.x.activity_types import Subscription

        time.sleep(0.05)
        with self.lock:
            self.created.append((user_id, event_type))
            return Subscription(id=str(len(self.created)), event_type=event_type, user_id=user_id, tag=tag)


def test_two_syncs_of_requesters_profile_subscriptions_subscribe_each_once(monkeypatch):
    from tickets.tests.factories import XIdentityFactory
    from twitter_channel.models import RequesterProfileSubscription
    from twitter_channel.realtime import requester_profiles

    XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                            intake_mode=XAccount.IntakeMode.STREAM)
    for _ in range(3):
        TicketFactory(requester=XIdentityFactory().requester, status=Ticket.Status.OPEN)
    fake = FakeActivityX()
    monkeypatch.setattr(requester_profiles, "app_client", lambda: fake)

    results = twice_at_once(requester_profiles.sync_requester_profile_subscriptions)

    assert sorted(r.busy for r in results) == [False, True]
    assert len(fake.created) == len(set(fake.created)) == 9
    assert RequesterProfileSubscription.objects.count() == 9


def test_two_backlog_counts_leave_one_count():
    from dashboard.backlog import backlog
    from dashboard.models import BacklogCount
    from dashboard.tasks import snapshot_backlog

    TicketFactory.create_batch(5, status=Ticket.Status.OPEN)
    TicketFactory.create_batch(2, status=Ticket.Status.PENDING)

    results = twice_at_once(snapshot_backlog)

    assert 7 in results and set(results) <= {7, None}
    assert backlog(None)["data"] == [0, 5, 2, 0]
    assert BacklogCount.objects.filter(group_id=0).count() == 2
