"""RAW_RETENTION_DAYS: raw X JSON and raw email messages older than N days are deleted by a
daily beat task; the parsed fields, comments and attachments stay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tickets import tasks as ticket_tasks
from tickets.mail.inbound import ingest_email
from tickets.mail.models import InboundEmail
from tickets.mail.testing import build_email
from tickets.models import Comment
from tickets.tests.factories import AdminFactory
from twitter_channel import tasks as x_tasks
from twitter_channel.intake import conversion, polling
from twitter_channel.models import ActivityEvent, IncomingItem, XAccount

from .intake_helpers import BRAND_ID, FakeX, tweet


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RAW_RETENTION_DAYS = 30
    return tmp_path


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


def age(queryset, field, days):
    queryset.update(**{field: timezone.now() - timedelta(days=days)})


def test_old_raw_x_json_is_deleted_parsed_fields_stay(account):
    x = FakeX()
    x.add_user("111", "alice")
    old, new = tweet("@AcmeHelp old question", "111"), tweet("@AcmeHelp new question", "111")
    x.mentions += [old, new]
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    conversion.convert_pending(account.pk)
    age(IncomingItem.objects.filter(x_id=old["id"]), "fetched_at", 31)
    for event_id, days in (("ev-old", 31), ("ev-new", 1)):
        ActivityEvent.objects.create(event_id=event_id, source="webhook", event_type="post.mention.create",
                                     body=json.dumps({"data": {"payload": old}}), state="processed")
        age(ActivityEvent.objects.filter(event_id=event_id), "received_at", days)

    assert x_tasks.delete_expired_raw_x_json() == (1, 1)

    expired = IncomingItem.objects.get(x_id=old["id"])
    assert expired.raw == {"id": old["id"], "expired": "raw JSON deleted after the retention period"}
    assert expired.text == "@AcmeHelp old question" and expired.author_handle == "alice"
    assert Comment.objects.filter(body="@AcmeHelp old question").exists()
    assert IncomingItem.objects.get(x_id=new["id"]).raw["text"] == "@AcmeHelp new question"
    assert "old question" not in ActivityEvent.objects.get(event_id="ev-old").body
    assert "old question" in ActivityEvent.objects.get(event_id="ev-new").body
    assert x_tasks.delete_expired_raw_x_json() == (0, 0)  # done once


def test_old_raw_emails_are_deleted_comments_and_attachments_stay(media, db, client):
    ingest_email(build_email(subject="Old one", body="old body", attachments=[("a.txt", "text/plain", b"kept")]))
    ingest_email(build_email(subject="New one", body="new body"))
    old = InboundEmail.objects.get(subject="Old one")
    old_file = media / old.raw.name
    age(InboundEmail.objects.filter(pk=old.pk), "received_at", 31)

    assert ticket_tasks.delete_expired_raw_emails() == 1

    old.refresh_from_db()
    assert not old.raw and not old_file.exists()
    assert old.subject == "Old one" and old.comment.body == "old body"
    assert old.comment.email_attachments.get().file.read() == b"kept"
    assert InboundEmail.objects.get(subject="New one").raw
    # The agent's "original message" download says it is gone instead of failing.
    client.force_login(AdminFactory())
    assert client.get(f"/email/original/{old.comment_id}/").status_code == 404


def test_retention_off_keeps_everything(settings, account):
    settings.RAW_RETENTION_DAYS = 0
    ingest_email(build_email(subject="Old one"))
    age(InboundEmail.objects.all(), "received_at", 3650)
    assert ticket_tasks.delete_expired_raw_emails() == 0
    assert InboundEmail.objects.get().raw


def test_the_beat_runs_both_daily(settings, db):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"tickets.tasks.delete_expired_raw_emails", "twitter_channel.tasks.delete_expired_raw_x_json"} <= tasks
