import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from helpdesk.celery import app as celery_app
from tickets.comments import add_comment
from tickets.mail.outbound import NoEmailAddress, send_email_reply
from tickets.mail.tokens import ticket_id_from_address
from tickets.models import Channel, Comment, Identity, Ticket
from tickets.outbound import reply_to_requester

from .factories import EmailIdentityFactory, RequesterFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """send_email_reply, with the task it queues on commit run as the commit would."""

    def send(ticket, body, author=None):
        with django_capture_on_commit_callbacks(execute=True):
            return send_email_reply(ticket, body, author=author or UserFactory())

    return send


@pytest.fixture
def ticket():
    requester = RequesterFactory(name="Ann Smith")
    EmailIdentityFactory(requester=requester, value="ann@example.com")
    return TicketFactory(requester=requester, channel=Channel.EMAIL, subject="Printer on fire")


class FailingBackend(EmailBackend):
    """Stands in for an SMTP server answering with `error`; counts the attempts."""

    error: Exception
    attempts = 0

    def send_messages(self, messages):
        FailingBackend.attempts += 1
        raise self.error


@pytest.fixture
def eager_retries():
    """Eager tasks re-run themselves on retry only when they do not propagate errors."""
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


@pytest.fixture
def failing_smtp(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    FailingBackend.attempts = 0
    return FailingBackend


def test_agent_reply_is_sent_to_the_requester_and_marked_sent(send, ticket):
    agent = UserFactory(first_name="Bea")
    comment = send(ticket, "Unplug it, please.", agent)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ann@example.com"]
    assert sent.body == "Unplug it, please."
    assert f"#{ticket.pk}" in sent.subject
    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.SENT
    assert comment.channel == Channel.EMAIL
    assert comment.is_public and comment.author_user == agent


def test_message_id_is_stored_on_the_comment_before_sending(send, ticket):
    comment = send(ticket, "Hi")
    message = mail.outbox[0].message()
    assert comment.external_source == Comment.Source.EMAIL
    assert message["Message-ID"] == comment.external_id
    assert comment.external_id.startswith("<") and comment.external_id.endswith("@helpdesk.localhost>")


def test_reply_to_is_a_signed_address_naming_the_ticket(send, ticket):
    send(ticket, "Hi")
    (reply_to,) = mail.outbox[0].reply_to
    assert reply_to.startswith("reply+") and reply_to.endswith("@helpdesk.localhost")
    assert ticket_id_from_address(reply_to) == ticket.pk


def test_first_message_has_no_in_reply_to(send, ticket):
    send(ticket, "Hi")
    message = mail.outbox[0].message()
    assert message["In-Reply-To"] is None
    assert message["References"] is None


def test_reply_names_the_earlier_messages_of_the_ticket(send, ticket):
    first = add_comment(
        ticket,
        body="My printer is on fire",
        author_requester=ticket.requester,
        external_source=Comment.Source.EMAIL,
        external_id="<first@example.com>",
    )
    add_comment(ticket, body="internal", author_user=UserFactory(), is_public=False)
    ours = send(ticket, "Unplug it")
    add_comment(
        ticket,
        body="Done",
        author_requester=ticket.requester,
        external_source=Comment.Source.EMAIL,
        external_id="<second@example.com>",
    )
    send(ticket, "Good")
    message = mail.outbox[1].message()
    assert message["In-Reply-To"] == "<second@example.com>"
    assert message["References"].split() == [first.external_id, ours.external_id, "<second@example.com>"]
    assert message["Subject"].startswith("Re: ")


def test_reply_goes_to_the_primary_address_not_the_newest(send, ticket):
    # Before: replies went to the address added last, so adding one diverted the mail.
    newer = EmailIdentityFactory(requester=ticket.requester, value="ann@work.example", is_primary=False)
    newer.save()  # the most recently touched
    send(ticket, "Hi")
    assert mail.outbox[0].to == ["ann@example.com"]


def test_reply_goes_to_the_address_the_requester_wrote_from_on_the_ticket(send, ticket, settings, tmp_path):
    from tickets.mail.inbound import ingest_email
    from tickets.mail.testing import build_email

    settings.MEDIA_ROOT = tmp_path
    EmailIdentityFactory(requester=ticket.requester, value="ann@work.example", is_primary=False)
    ours = send(ticket, "First answer")
    ingest_email(build_email(sender="Ann <ann@work.example>", in_reply_to=ours.external_id, body="Thanks"))
    send(ticket, "Second answer")
    assert mail.outbox[-1].to == ["ann@work.example"]


def test_nothing_goes_to_an_unconfirmed_address():
    ticket = TicketFactory(channel=Channel.X)
    Identity.objects.create(requester=ticket.requester, kind=Identity.Kind.EMAIL, value="left@example.com")
    with pytest.raises(NoEmailAddress):
        send_email_reply(ticket, "Hi", author=UserFactory())
    assert mail.outbox == []


def test_requester_without_email_address_gets_nothing_stored():
    ticket = TicketFactory(channel=Channel.X)
    with pytest.raises(NoEmailAddress):
        send_email_reply(ticket, "Hi", author=UserFactory())
    assert not ticket.comments.exists()
    assert mail.outbox == []


def test_reply_to_requester_answers_email_tickets_by_email(ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        comment = reply_to_requester(ticket, "Via the registry", author=UserFactory())
    assert comment.channel == Channel.EMAIL
    assert mail.outbox[0].body == "Via the registry"


def test_agent_reply_opens_a_new_ticket(send, ticket):
    send(ticket, "Hi")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_refused_recipient_marks_the_comment_failed_with_the_reason(send, ticket, failing_smtp):
    failing_smtp.error = smtplib.SMTPRecipientsRefused({"ann@example.com": (550, b"5.1.1 User unknown")})
    comment = send(ticket, "Hi")
    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.FAILED
    assert "550 5.1.1 User unknown" in comment.delivery_error
    assert failing_smtp.attempts == 1  # a permanent refusal is not retried


def test_unreachable_server_is_retried_then_marked_failed(send, ticket, failing_smtp, eager_retries):
    failing_smtp.error = ConnectionRefusedError(111, "Connection refused")
    comment = send(ticket, "Hi")
    comment.refresh_from_db()
    assert failing_smtp.attempts == 6  # the first try and five retries
    assert comment.delivery == Comment.Delivery.FAILED
    assert comment.delivery_error.startswith("Gave up retrying")


class FlakyBackend(EmailBackend):
    """Drops the connection on the first attempt, delivers on the next."""

    attempts = 0

    def send_messages(self, messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def test_retry_sends_the_same_message_id(send, ticket, settings, eager_retries):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.attempts = 0
    comment = send(ticket, "Hi")
    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.SENT
    assert FlakyBackend.attempts == 2
    assert len(mail.outbox) == 1
    assert mail.outbox[0].message()["Message-ID"] == comment.external_id


def test_a_sent_comment_is_never_sent_twice(send, ticket):
    from tickets.mail.tasks import send_email_comment

    comment = send(ticket, "Hi")
    send_email_comment.delay(comment.pk)  # a redelivered task
    assert len(mail.outbox) == 1
