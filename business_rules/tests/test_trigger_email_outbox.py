"""A trigger's notification email is in the outbox like a reply: when the broker is down the
agent's change still succeeds, and the sweeper sends the email once the broker is back."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tickets import outbox
from tickets.mail.models import OutgoingNotification
from tickets.models import Ticket, User
from tickets.tests.factories import EmailIdentityFactory, RequesterFactory, TicketFactory, UserFactory
from tickets.tests.outbox_helpers import broker_down, time_passes

from .helpers import make_trigger


@pytest.mark.django_db(transaction=True)
def test_trigger_email_queued_while_the_broker_is_down_is_sent_once_by_the_sweeper(client, settings):
    # Transactional: the trigger runs after the real commit of the agent's change, as in production.
    requester = RequesterFactory(name="Alice Doe")
    EmailIdentityFactory(requester=requester, value="alice@example.com")
    ticket = TicketFactory(requester=requester, status=Ticket.Status.OPEN, subject="Parcel lost")
    make_trigger(all=[("update_type", "is", "updated")], actions=[("email_requester", "", "We got it", "Hello")])
    client.force_login(UserFactory(role=User.Role.AGENT))

    with broker_down():
        response = client.post(reverse("tickets:update", args=[ticket.pk]),
                               {"status": "open", "priority": "3", "tags": ""})

    assert response.status_code == 302
    (row,) = OutgoingNotification.objects.all()
    assert (row.state, row.recipients, row.subject) == ("queued", ["alice@example.com"], "We got it")
    assert mail.outbox == []

    time_passes(settings.OUTBOX_SWEEP_GRACE_SECONDS + 1)
    assert outbox.sweep_outboxes() == 1
    assert outbox.sweep_outboxes() == 0

    (sent,) = mail.outbox
    assert sent.to == ["alice@example.com"] and sent.extra_headers["Message-ID"] == row.message_id
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 1
