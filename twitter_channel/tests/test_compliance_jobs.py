"""The batch compliance job, round trip against the sandbox over HTTP: the ids we hold go up
(streamed), X's result comes back, deleted posts are redacted and accounts gone or protected
lose their profile data; failures are kept and retried, and never touch intake."""

from __future__ import annotations

import pytest

from tickets.models import Identity, Ticket
from twitter_channel import tasks
from twitter_channel.compliance import jobs
from twitter_channel.models import ComplianceJobRun, IncomingItem, XDeletion
from twitter_channel.realtime.subscriptions import app_client
from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN

from .answering_sandbox import poll

Run = ComplianceJobRun


@pytest.fixture(autouse=True)
def app_token(settings):
    settings.X_APP_BEARER_TOKEN = DEFAULT_APP_BEARER_TOKEN


def test_round_trip_redacts_what_was_deleted_on_x(sb, brand):
    sb.create_user("alice", name="Alice")
    sb.create_user("bob", name="Bob Private")
    kept = sb.post_tweet("alice", "@AcmeHelp where is my parcel?")
    gone = sb.post_tweet("alice", "@AcmeHelp my PIN is 9876")
    private = sb.post_tweet("bob", "@AcmeHelp hello")
    poll(brand)
    assert Ticket.objects.count() == 3
    sb.delete_tweet(gone["id"])
    sb.update_user(private["author_id"], protected=True)

    started = tasks.start_compliance_jobs()
    assert started == 2
    tweets_run = Run.objects.get(type="tweets")
    assert tweets_run.ids_uploaded == 3 and tweets_run.status == Run.Status.UPLOADED

    applied = tasks.check_compliance_jobs()  # the sandbox finishes a job by its first status read

    assert applied == 2
    tweets_run.refresh_from_db()
    assert (tweets_run.status, tweets_run.changes, tweets_run.applied) == (Run.Status.APPLIED, 1, 1)
    comment = IncomingItem.objects.get(x_id=gone["id"]).comment
    assert comment.body.startswith("[Deleted on X on ") and "9876" not in comment.ticket.subject
    assert IncomingItem.objects.get(x_id=kept["id"]).comment.body == "@AcmeHelp where is my parcel?"
    assert XDeletion.objects.get().source == XDeletion.Source.BATCH
    bob = Identity.objects.get(kind="x", value=private["author_id"])
    assert bob.display_name == "" and bob.handle == "bob"  # protected: public profile details go
    # Applying again changes nothing.
    assert tasks.check_compliance_jobs() == 0


def test_held_ids_leave_out_redacted_and_malformed_items(sb, brand):
    sb.create_user("alice", name="Alice")
    a, b = sb.post_tweet("alice", "@AcmeHelp one"), sb.post_tweet("alice", "@AcmeHelp two")
    poll(brand)
    IncomingItem.objects.filter(x_id=b["id"]).update(redacted_at="2026-01-01T00:00Z")
    assert list(jobs.held_post_ids()) == [a["id"]]


def test_a_failing_download_is_kept_and_retried(sb, brand, monkeypatch):
    sb.create_user("alice", name="Alice")
    gone = sb.post_tweet("alice", "@AcmeHelp secret 1234")
    poll(brand)
    sb.delete_tweet(gone["id"])
    jobs.start_jobs(app_client())
    client = app_client()
    client.get_compliance_job(Run.objects.get(type="tweets").x_job_id)  # now complete
    real = type(client).compliance_results

    def broken(self, job):
        from twitter_channel.x.types import XTransientError

        raise XTransientError("storage hiccup")

    monkeypatch.setattr(type(client), "compliance_results", broken)
    jobs.check_jobs(client)
    run = Run.objects.get(type="tweets")
    assert run.status == Run.Status.FAILED and "storage hiccup" in run.error
    assert IncomingItem.objects.get(x_id=gone["id"]).redacted_at is None

    monkeypatch.setattr(type(client), "compliance_results", real)
    jobs.check_jobs(client)
    run.refresh_from_db()
    assert run.status == Run.Status.APPLIED
    assert IncomingItem.objects.get(x_id=gone["id"]).redacted_at is not None


def test_without_an_app_token_nothing_runs(settings, db):
    settings.X_APP_BEARER_TOKEN = ""
    assert tasks.start_compliance_jobs() == 0 and tasks.check_compliance_jobs() == 0
    assert not Run.objects.exists()


def test_admin_page_lists_what_compliance_changed(db, client):
    from django.urls import reverse

    from tickets.tests.factories import AdminFactory, UserFactory

    XDeletion.objects.create(x_id="1", source=XDeletion.Source.REALTIME, items_redacted=2)
    XDeletion.objects.create(x_id="2", source=XDeletion.Source.BATCH, items_redacted=1)
    Run.objects.create(type="tweets", status=Run.Status.FAILED, error="storage hiccup", x_job_id="77")
    url = reverse("admin:twitter_channel_xdeletion_changelist")

    client.force_login(UserFactory())
    assert client.get(url).status_code == 302  # agents never reach the admin
    client.force_login(AdminFactory())
    page = client.get(url).content.decode()

    assert "Deletions on X, last 14 days" in page
    assert "realtime</td><td>1</td><td>2" in page and "batch</td><td>1</td><td>1" in page
    assert "storage hiccup" in page and "never run" in page  # no users job yet
