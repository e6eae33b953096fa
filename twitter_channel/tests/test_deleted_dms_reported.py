"""DMs deleted on X: X tells nobody (no Activity API event, no dm_events event type, no batch
compliance job type for DMs), so the admin's "Deletions on X" page says so, and an admin
redacts a DM its author reports deleted with an action on the stored items, through the same
redaction as posts X reports."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tickets.models import Comment
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.intake import conversion, polling
from twitter_channel.models import IncomingItem, XAccount, XDeletion

from .intake_helpers import BRAND_ID, FakeX, dm, tweet

ALICE = "111"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


@pytest.fixture
def stored(account):
    x = FakeX()
    x.add_user(ALICE, "alice", name="Alice A")
    message = dm("my card 4111 is blocked at the Main Street shop", ALICE, f"{ALICE}-{BRAND_ID}")
    post = tweet("@AcmeHelp hello from Main Street", ALICE)
    x.dm_events.append(message)
    x.mentions.append(post)
    for stream in ("dms", "mentions"):
        polling.poll_stream(account.pk, stream, client_factory=x.client_for)
    conversion.convert_pending(account.pk)
    return IncomingItem.objects.get(x_id=message["id"]), IncomingItem.objects.get(x_id=post["id"])


def changelist():
    return reverse("admin:twitter_channel_incomingitem_changelist")


def test_the_deletions_page_says_x_reports_no_deleted_dms(db, client):
    client.force_login(AdminFactory())
    page = client.get(reverse("admin:twitter_channel_xdeletion_changelist")).content.decode()
    assert "X never reports a deleted DM" in page
    assert "Redact as deleted on X (reported by its author)" in page


def test_admin_redacts_a_dm_its_author_reports_deleted_after_confirming(stored, client):
    message, _ = stored
    client.force_login(AdminFactory())
    action = {"action": "redact_reported_deleted_dms", "_selected_action": [message.pk]}

    asked = client.post(changelist(), action)
    assert asked.status_code == 200 and b"Yes, redact" in asked.content
    assert not XDeletion.objects.exists()

    client.post(changelist(), {**action, "confirmed": "yes"})

    message.refresh_from_db()
    assert message.redacted_at is not None and "Main Street" not in str(message.raw) + message.text
    assert Comment.objects.get(external_id=message.x_id).body.startswith("[Deleted on X on ")
    deletion = XDeletion.objects.get()
    assert (deletion.x_id, deletion.is_dm, deletion.source) == (message.x_id, True, XDeletion.Source.REPORTED)


def test_the_action_leaves_posts_to_what_x_reports(stored, client):
    _, post = stored
    client.force_login(AdminFactory())
    client.post(changelist(), {"action": "redact_reported_deleted_dms", "_selected_action": [post.pk],
                               "confirmed": "yes"})
    post.refresh_from_db()
    assert post.redacted_at is None and not XDeletion.objects.exists()


def test_agents_cannot_redact(stored, client):
    message, _ = stored
    client.force_login(UserFactory(role="agent", is_staff=True))
    response = client.post(changelist(), {"action": "redact_reported_deleted_dms",
                                          "_selected_action": [message.pk], "confirmed": "yes"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not XDeletion.objects.exists()
