"""Nothing lost, by email: an agent's email reply is an outbox row written with its comment.
A broker that is down never fails the agent's request, beat's sweeper sends what a lost or
dead task left behind, and the ticket shows honest states with a retry for anything not sent."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import OperationalError
from django.urls import reverse

from tickets import outbox
from tickets.mail import outbound
from tickets.mail.models import OutgoingEmail
from tickets.models import Channel, Comment, User

from .factories import EmailIdentityFactory, RequesterFactory, TicketFactory, UserFactory
from .outbox_helpers import broker_down, time_passes

State = OutgoingEmail.State


@pytest.fixture
def ticket(db):
    requester = RequesterFactory(name="Ann Smith")
    EmailIdentityFactory(requester=requester, value="ann@example.com")
    return TicketFactory(requester=requester, channel=Channel.EMAIL, subject="Printer on fire")


@pytest.fixture
def agent(db):
    return UserFactory(role=User.Role.AGENT)


def queued_reply(ticket, agent, django_capture_on_commit_callbacks, body="We are on it") -> Comment:
    """An email reply whose send task was lost (the broker took it and died, or never had it)."""
    with django_capture_on_commit_callbacks(execute=False):
        return outbound.send_email_reply(ticket, body, author=agent)


def sweep_later(settings, seconds: float = 120) -> int:
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 60
    time_passes(seconds)
    return outbox.sweep_outboxes()


@pytest.mark.django_db(transaction=True)
def test_email_reply_is_saved_and_shown_queued_when_the_broker_is_down(client):
    # Transactional: the send task is queued by the real commit inside the request, as in production.
    requester = RequesterFactory(name="Ann Smith")
    EmailIdentityFactory(requester=requester, value="ann@example.com")
    ticket = TicketFactory(requester=requester, channel=Channel.EMAIL, subject="Printer on fire")
    client.force_login(UserFactory(role=User.Role.AGENT))

    with broker_down():
        response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "We are on it", "kind": "public"})

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Reply queued by email: the ticket shows when it is sent."]
    comment = ticket.comments.get()
    assert comment.delivery == Comment.Delivery.QUEUED and comment.outgoing_email.state == State.QUEUED
    assert mail.outbox == []
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "We are on it" in page and "Queued" in page


def test_sweeper_sends_an_email_whose_task_never_ran(ticket, agent, settings, django_capture_on_commit_callbacks):
    comment = queued_reply(ticket, agent, django_capture_on_commit_callbacks)

    assert outbox.sweep_outboxes() == 0  # too early: its task may still be in the queue
    assert sweep_later(settings) == 1

    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.SENT and comment.outgoing_email.state == State.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].extra_headers["Message-ID"] == comment.external_id
    assert sweep_later(settings) == 0
    assert len(mail.outbox) == 1


def test_email_whose_worker_died_mid_send_is_sent_again_with_the_same_message_id(
        ticket, agent, settings, django_capture_on_commit_callbacks):
    comment = queued_reply(ticket, agent, django_capture_on_commit_callbacks)
    assert outbound._claim(comment.pk) is not None  # the worker claimed it, then died
    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.SENDING
    # A redelivered task right now steps aside: the attempt may still be in flight.
    assert outbound.deliver(comment.pk).state == State.SENDING

    assert sweep_later(settings, seconds=60) == 0
    assert sweep_later(settings, seconds=settings.EMAIL_SEND_STALE_SECONDS) == 1

    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.SENT and comment.outgoing_email.attempts == 2
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [comment.external_id]


def test_email_whose_task_failed_because_the_database_went_away_is_swept(
        ticket, agent, settings, django_capture_on_commit_callbacks, monkeypatch):
    comment = queued_reply(ticket, agent, django_capture_on_commit_callbacks)

    def database_gone(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    with monkeypatch.context() as m:
        m.setattr(outbound, "_claim", database_gone)
        with pytest.raises(OperationalError):
            outbound.deliver(comment.pk)
    assert sweep_later(settings) == 1

    assert comment.outgoing_email.__class__.objects.get(pk=comment.pk).state == State.SENT
    assert len(mail.outbox) == 1


def test_failed_email_shows_the_reason_and_a_retry_that_sends_it(ticket, agent, client, settings,
                                                                 django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tickets.tests.test_mail_outbound.FailingBackend"
    import smtplib

    from .test_mail_outbound import FailingBackend
    FailingBackend.error = smtplib.SMTPRecipientsRefused({"ann@example.com": (550, b"5.1.1 User unknown")})
    with django_capture_on_commit_callbacks(execute=True):
        comment = outbound.send_email_reply(ticket, "Hello", author=agent)
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Failed" in page and "550 5.1.1 User unknown" in page
    assert f'action="{reverse("mail:retry", args=[comment.pk])}"' in page

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mail:retry", args=[comment.pk]))

    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.SENT and len(mail.outbox) == 1
    client.post(reverse("mail:retry", args=[comment.pk]))  # sent: nothing to retry
    assert len(mail.outbox) == 1


def test_only_agents_who_see_the_ticket_may_retry_an_email(ticket, agent, client,
                                                          django_capture_on_commit_callbacks):
    comment = queued_reply(ticket, agent, django_capture_on_commit_callbacks)
    url = reverse("mail:retry", args=[comment.pk])
    assert client.post(url).status_code == 302 and "/login/" in client.post(url)["Location"]
    restricted = UserFactory(role=User.Role.RESTRICTED)
    client.force_login(restricted)
    assert client.post(url).status_code == 404
    client.force_login(agent)
    assert client.get(url).status_code == 405


def test_admins_look_up_the_email_outbox_and_notifications_read_only(client, ticket, agent,
                                                                     django_capture_on_commit_callbacks):
    from .factories import AdminFactory

    queued_reply(ticket, agent, django_capture_on_commit_callbacks)
    client.force_login(AdminFactory())
    for model in ("outgoingemail", "outgoingnotification"):
        assert client.get(reverse(f"admin:tickets_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:tickets_{model}_add")).status_code == 403


def test_a_swept_email_whose_task_waits_in_a_backlog_is_not_queued_again_every_tick(
        ticket, agent, settings, django_capture_on_commit_callbacks, monkeypatch):
    from tickets.mail.tasks import send_email_comment

    comment = queued_reply(ticket, agent, django_capture_on_commit_callbacks)
    queued = []
    monkeypatch.setattr(send_email_comment, "delay", queued.append)  # a worker far behind: nothing runs

    assert sweep_later(settings) == 1
    assert outbox.sweep_outboxes() == 0  # the next tick: its copy is still waiting in the queue
    assert sweep_later(settings) == 1  # a grace period later, one more
    assert queued == [comment.pk, comment.pk]
