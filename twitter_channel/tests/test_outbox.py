"""Nothing lost: an X reply is an outbox row written in the agent's transaction. A broker
that is down never fails the agent's request, and beat's sweeper delivers every row whose
task never ran or died, with the exactly-once rules of sending (look on X before a resend)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import OperationalError
from django.urls import reverse
from django.utils.html import escape

from tickets import outbox
from tickets.models import Comment
from tickets.tests.factories import UserFactory
from tickets.tests.outbox_helpers import broker_down, time_passes
from twitter_channel.answering import sending
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.intake import bulk_convert

from .answering_helpers import make_account, make_item
from .answering_sandbox import poll
from .test_sending import brand_replies, post_as_brand, queue

State = OutgoingMessage.State
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture
def agent(db):
    return UserFactory(first_name="Dana", last_name="Agent")


@pytest.fixture
def mention_ticket(sb, brand, alice):
    tweet = sb.post_tweet(alice["id"], "@AcmeHelp my order #123 is late")
    (item,) = poll(brand)
    return item.ticket, tweet


def sweep_later(settings, seconds: float = 120) -> int:
    """Run beat's sweep `seconds` from now (its tasks run in-process); returns how many it queued."""
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 60
    time_passes(seconds)
    return outbox.sweep_outboxes()


@pytest.mark.django_db(transaction=True)
def test_agent_reply_is_saved_and_shown_queued_when_the_broker_is_down(client):
    # Transactional: the send task is queued by the real commit inside the request, as in production.
    account = make_account()
    item = make_item(account, text="@AcmeHelp my order is late")
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    ticket = item.ticket
    client.force_login(UserFactory())

    with broker_down():
        response = client.post(reverse("twitter_channel:reply", args=[ticket.pk]),
                               {"body": "We're on it!", "append_link": "0"})

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Reply queued for X."]
    outgoing = OutgoingMessage.objects.get()
    assert outgoing.state == State.QUEUED and outgoing.comment.delivery == Comment.Delivery.QUEUED
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "We&#x27;re on it!" in page and "Queued" in page


def test_sweeper_sends_a_reply_whose_task_never_ran(sb, brand, mention_ticket, agent, settings,
                                                   django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    outgoing = queue(ticket, "Sorry for the wait", agent, django_capture_on_commit_callbacks)  # task lost

    assert outbox.sweep_outboxes() == 0  # too early: its task may still be in the queue
    assert sweep_later(settings) == 1

    outgoing.refresh_from_db()
    assert outgoing.state == State.SENT and outgoing.attempts == 1
    assert Comment.objects.get(pk=outgoing.comment_id).delivery == Comment.Delivery.SENT
    assert len(brand_replies(sb, tweet["id"])) == 1
    assert sweep_later(settings) == 0
    assert len(brand_replies(sb, tweet["id"])) == 1


def test_sweeper_looks_on_x_before_resending_a_reply_whose_worker_died(sb, brand, mention_ticket, agent,
                                                                      settings, django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    outgoing = queue(ticket, "We have escalated this", agent, django_capture_on_commit_callbacks)
    # The worker claimed the message and posted, then died before recording X's answer.
    assert sending._claim(outgoing.pk) is not None
    post_as_brand(sb, brand, "We have escalated this", tweet["id"])
    assert Comment.objects.get(pk=outgoing.comment_id).delivery == Comment.Delivery.SENDING

    assert sweep_later(settings, seconds=30) == 0  # the attempt may still be in flight
    assert sweep_later(settings, seconds=settings.X_SEND_STALE_SECONDS) == 1

    outgoing.refresh_from_db()
    assert outgoing.state == State.SENT and outgoing.attempts == 2
    assert len(brand_replies(sb, tweet["id"])) == 1


class DatabaseGoneAfterPosting:
    """A real client to the sandbox whose worker loses PostgreSQL right after X answered."""

    def __init__(self, account):
        self.client = sending.client_for(account)

    def __getattr__(self, name):
        return getattr(self.client, name)

    def create_tweet(self, *args, **kwargs):
        self.client.create_tweet(*args, **kwargs)
        raise OperationalError("server closed the connection unexpectedly")


def test_reply_whose_task_failed_because_the_database_went_away_is_sent_once(sb, brand, mention_ticket, agent,
                                                                             settings,
                                                                             django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    outgoing = queue(ticket, "Refund approved", agent, django_capture_on_commit_callbacks)
    with pytest.raises(OperationalError):
        sending.deliver(outgoing.pk, client_factory=DatabaseGoneAfterPosting)

    assert sweep_later(settings, seconds=settings.X_SEND_STALE_SECONDS + 1) == 1

    outgoing.refresh_from_db()
    assert outgoing.state == State.SENT
    assert len(brand_replies(sb, tweet["id"])) == 1


def test_sweeper_leaves_a_reply_waiting_for_its_back_off_alone(sb, brand, mention_ticket, agent, settings,
                                                              django_capture_on_commit_callbacks):
    ticket, _ = mention_ticket
    settings.X_SEND_BACKOFF_SECONDS = 600
    sb.add_fault("POST /2/tweets", "status_503")
    outgoing = queue(ticket, "Checking now", agent, django_capture_on_commit_callbacks)
    assert sending.deliver(outgoing.pk).retry_in == 600

    assert sweep_later(settings, seconds=120) == 0
    assert sweep_later(settings, seconds=600) == 1


def test_retry_is_offered_for_a_reply_not_sent_yet(sb, brand, mention_ticket, agent, client,
                                                   django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    outgoing = queue(ticket, "Any news on your side?", agent, django_capture_on_commit_callbacks)  # task lost
    client.force_login(agent)
    assert f'action="{reverse("twitter_channel:retry_outgoing", args=[outgoing.pk])}"' in \
        client.get(ticket.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("twitter_channel:retry_outgoing", args=[outgoing.pk]))

    outgoing.refresh_from_db()
    assert outgoing.state == State.SENT
    assert len(brand_replies(sb, tweet["id"])) == 1
    assert not sending.retry(outgoing)  # sent: nothing to retry


def test_ticket_shows_each_delivery_state_honestly(sb, brand, mention_ticket, agent, client, settings,
                                                   django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    client.force_login(agent)

    def page() -> str:
        return client.get(ticket.get_absolute_url()).content.decode()

    outgoing = queue(ticket, "First answer", agent, django_capture_on_commit_callbacks)
    assert "delivery--queued" in page() and "Queued" in page()

    sending._claim(outgoing.pk)
    assert "delivery--sending" in page() and "Sending now." in page()

    time_passes(settings.X_SEND_STALE_SECONDS)
    sb.add_fault("POST /2/tweets", "status_503")
    assert sending.deliver(outgoing.pk).state == State.QUEUED
    html = page()
    assert "delivery--unknown" in html and "Outcome unknown" in html and "X did not confirm the post" in html

    assert sending.deliver(outgoing.pk).state == State.SENT
    outgoing.refresh_from_db()
    html = page()
    assert "delivery--sent" in html
    assert f'href="https://x.com/AcmeHelp/status/{outgoing.x_id}"' in html and "view on X" in html

    sb.delete_tweet(tweet["id"])  # X refuses replies to a deleted post
    other = queue(ticket, "Second answer", agent, django_capture_on_commit_callbacks)
    assert sending.deliver(other.pk).state == State.FAILED
    other.refresh_from_db()
    html = page()
    assert "delivery--failed" in html and other.error and escape(other.error) in html
    assert f'action="{reverse("twitter_channel:retry_outgoing", args=[other.pk])}"' in html
