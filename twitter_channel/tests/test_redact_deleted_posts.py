"""A post or DM deleted on X leaves the helpdesk: its text is gone from every place we kept
it (comment, stored item, pushed event, search, public page, the emails that quoted it),
the ids and a tombstone stay, agents' replies stay. An edited post shows its latest text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.core import mail

from tickets.comments import add_comment
from tickets.lifecycle import update_ticket
from tickets.links import ticket_link
from tickets.mail.inbound import ingest_email
from tickets.mail.models import InboundEmail, OutgoingNotification
from tickets.mail.notifications import queue_notification
from tickets.mail.outbound import send_email_reply
from tickets.mail.testing import build_email
from tickets.models import Comment, Identity, Ticket, TicketEvent
from tickets.search import find
from tickets.tests.factories import UserFactory
from twitter_channel.intake import conversion, polling
from twitter_channel.intake.deletions import redact_deleted
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.realtime.models import ActivityEvent

from .intake_helpers import BRAND_ID, FakeX, dm, tweet

State = IncomingItem.State
ALICE = "111"
SECRET = "my card 4111 is blocked at the Main Street shop"
DELETED_AT = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


@pytest.fixture
def x(account):
    fake = FakeX()
    fake.add_user(ALICE, "alice", name="Alice A")
    return fake


def poll(x, account, stream="mentions"):
    polling.poll_stream(account.pk, stream, client_factory=x.client_for)
    conversion.convert_pending(account.pk)


def found(text):
    return find(Ticket.objects.order_by("-updated_at", "-id"), text, limit=100)


def assert_gone_from_items(x_id):
    for item in IncomingItem.objects.filter(x_id=x_id):
        assert item.redacted_at is not None
        assert "Main Street" not in json.dumps(item.raw) + item.text
        assert item.raw["id"] == x_id


def test_post_deleted_after_it_became_a_comment(x, account, client):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    x.mentions.append(post)
    poll(x, account)
    ticket = Ticket.objects.get()
    agent = UserFactory()
    add_comment(ticket, body="Sorry! Which shop was it?", author_user=agent)
    assert ticket.pk in found("Main Street")

    assert redact_deleted(post["id"], deleted_at=DELETED_AT) == 1

    first, reply = ticket.comments.order_by("pk")
    assert first.body == "[Deleted on X on 2026-11-29 08:30 UTC]"
    assert first.external_id == post["id"] and first.redacted_at == DELETED_AT
    assert reply.body == "Sorry! Which shop was it?"  # the agent's reply stays
    ticket.refresh_from_db()
    assert "Main Street" not in ticket.subject
    assert_gone_from_items(post["id"])
    # Search reads comment bodies and subjects (their search vectors, rebuilt by the
    # database from the tombstone): the text no longer finds the ticket.
    assert ticket.pk not in found("Main Street")
    # The requester's public page shows the tombstone, not the text.
    page = client.get(urlsplit(ticket_link(ticket)).path)
    assert page.status_code == 200
    assert "Main Street" not in page.content.decode()
    assert "Deleted on X on 2026-11-29" in page.content.decode()


def test_deleting_again_changes_nothing(x, account):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    x.mentions.append(post)
    poll(x, account)
    redact_deleted(post["id"], deleted_at=DELETED_AT)
    assert redact_deleted(post["id"]) == 0
    assert Comment.objects.get().body == "[Deleted on X on 2026-11-29 08:30 UTC]"


def test_subject_made_from_the_post_goes_from_the_event_log(x, account):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    x.mentions.append(post)
    poll(x, account)
    ticket = Ticket.objects.get()
    update_ticket(ticket, subject=f"{ticket.subject} (VIP)", actor=UserFactory())

    redact_deleted(post["id"], deleted_at=DELETED_AT)

    for event in TicketEvent.objects.filter(ticket=ticket):
        assert "Main Street" not in event.old_label + event.new_label + json.dumps([event.old_value, event.new_value])
    ticket.refresh_from_db()
    assert "Main Street" not in ticket.subject


def test_post_deleted_after_it_was_quoted_in_an_email(x, account, django_capture_on_commit_callbacks):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    x.mentions.append(post)
    poll(x, account)
    ticket = Ticket.objects.get()
    Identity.objects.create(requester=ticket.requester, kind=Identity.Kind.EMAIL, value="alice@example.com",
                            confirmed_at=datetime.now(UTC), is_primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        ours = send_email_reply(ticket, "Could you send the receipt?", author=UserFactory())
    sent = mail.outbox[-1]
    assert "Main Street" in sent.subject  # our mail carries the subject, made from the post
    quoting = build_email(
        sender="Alice <alice@example.com>", subject=f"Re: {sent.subject}", in_reply_to=ours.external_id,
        body=f"Receipt attached.\n\n> [#{ticket.pk}] {ticket.subject}\n> Could you send the receipt?\n",
    )
    ingest_email(quoting)
    queue_notification(["alice@example.com"], f"[#{ticket.pk}] {ticket.subject}", "A trigger's mail: ticket updated.")
    stored = InboundEmail.objects.get()
    assert "Main Street" in stored.subject

    redact_deleted(post["id"], deleted_at=DELETED_AT)

    stored.refresh_from_db()
    assert "Main Street" not in stored.subject
    raw = stored.raw.open("rb").read().decode("utf-8", "replace")
    assert "Main Street" not in raw
    assert "Receipt attached." in raw
    for comment in ticket.comments.all():
        assert "Main Street" not in comment.body
    assert ticket.comments.filter(body="Could you send the receipt?").exists()
    assert "Main Street" not in "".join(OutgoingNotification.objects.values_list("subject", "body").get())


def test_post_deleted_while_it_sits_in_quarantine(x, account, monkeypatch):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    x.mentions.append(post)
    monkeypatch.setattr(conversion, "requester_for", lambda item: (_ for _ in ()).throw(RuntimeError("boom")))
    poll(x, account)
    item = IncomingItem.objects.get()
    assert item.state == State.QUARANTINED

    redact_deleted(post["id"], deleted_at=DELETED_AT)

    item.refresh_from_db()
    assert_gone_from_items(post["id"])
    # Not retried into a ticket after its author deleted it.
    assert item.state == State.IGNORED
    monkeypatch.undo()
    conversion.convert_pending(account.pk)
    assert not Ticket.objects.exists()


def test_post_deleted_before_it_was_converted_never_becomes_a_ticket(x, account):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    x.mentions.append(post)
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    redact_deleted(post["id"], deleted_at=DELETED_AT)
    conversion.convert_pending(account.pk)
    assert not Ticket.objects.exists()
    assert_gone_from_items(post["id"])


def test_deleted_dm_is_redacted(x, account):
    message = dm(f"{SECRET}, help", ALICE, f"{ALICE}-{BRAND_ID}")
    x.dm_events.append(message)
    poll(x, account, "dms")
    assert Comment.objects.get().body.startswith("my card")

    redact_deleted(message["id"], dm=True, deleted_at=DELETED_AT)

    assert Comment.objects.get().body == "[Deleted on X on 2026-11-29 08:30 UTC]"
    assert_gone_from_items(message["id"])


def test_pushed_event_that_carried_the_post_is_redacted(x, account):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    envelope = {"data": {"event_type": "post.mention.create", "event_uuid": "ev-1",
                         "filter": {"user_id": BRAND_ID}, "payload": post}}
    ActivityEvent.objects.create(event_id="ev-1", source="webhook", event_type="post.mention.create",
                                 body=json.dumps(envelope), state="processed")
    redact_deleted(post["id"], deleted_at=DELETED_AT)
    assert "Main Street" not in ActivityEvent.objects.get().body


def test_edited_post_shows_latest_text_and_keeps_history(x, account):
    first = tweet("@AcmeHelp my order 17 is late", ALICE)
    x.mentions.append(first)
    poll(x, account)
    edited = tweet("@AcmeHelp my order 71 is late", ALICE)
    edited["edit_history_tweet_ids"] = [first["id"], edited["id"]]
    x.mentions.append(edited)
    poll(x, account)

    ticket = Ticket.objects.get()
    comment = ticket.comments.get()
    assert comment.body == "@AcmeHelp my order 71 is late"
    assert comment.external_id == first["id"]
    assert [(r.body, r.external_id) for r in comment.revisions.all()] == [("@AcmeHelp my order 17 is late", first["id"])]
    assert IncomingItem.objects.get(x_id=edited["id"]).comment == comment

    # Deleting the post takes every version with it.
    redact_deleted(edited["id"], deleted_at=DELETED_AT)
    redact_deleted(first["id"], deleted_at=DELETED_AT)
    comment.refresh_from_db()
    assert comment.body.startswith("[Deleted on X")
    assert not comment.revisions.exists()


def test_agents_see_the_earlier_versions_of_an_edited_post(x, account, client):
    from tickets.tests.factories import AdminFactory

    first = tweet("@AcmeHelp my order 17 is late", ALICE)
    x.mentions.append(first)
    poll(x, account)
    edited = tweet("@AcmeHelp my order 71 is late", ALICE)
    edited["edit_history_tweet_ids"] = [first["id"], edited["id"]]
    x.mentions.append(edited)
    poll(x, account)
    client.force_login(AdminFactory())

    page = client.get(Ticket.objects.get().get_absolute_url()).content.decode()

    assert "my order 71 is late" in page
    assert "Edited 1 time: earlier versions" in page and "my order 17 is late" in page


def test_a_short_deleted_message_blanks_no_other_words(x, account):
    message = dm("help me", ALICE, f"{ALICE}-{BRAND_ID}")
    x.dm_events.append(message)
    poll(x, account, "dms")
    ticket = Ticket.objects.get()
    add_comment(ticket, body="please help me with the invoice", author_requester=ticket.requester)

    redact_deleted(message["id"], dm=True, deleted_at=DELETED_AT)

    assert list(ticket.comments.values_list("body", flat=True)) == [
        "[Deleted on X on 2026-11-29 08:30 UTC]", "please help me with the invoice"]
    ticket.refresh_from_db()
    assert ticket.subject == "(message deleted by its author)"  # it was the message


def test_a_subject_an_agent_wrote_stays(x, account):
    post = tweet(f"@AcmeHelp {SECRET}", ALICE)
    x.mentions.append(post)
    poll(x, account)
    ticket = Ticket.objects.get()
    update_ticket(ticket, subject="Blocked card", actor=UserFactory())
    add_comment(ticket, body="About the Blocked card: any news?", author_requester=ticket.requester)

    redact_deleted(post["id"], deleted_at=DELETED_AT)

    ticket.refresh_from_db()
    assert ticket.subject == "Blocked card"
    assert ticket.comments.filter(body="About the Blocked card: any news?").exists()
    event = TicketEvent.objects.get(ticket=ticket, field="subject")
    assert event.new_label == "Blocked card" and "Main Street" not in event.old_label
