"""The X intake writes the ticket's event log: a customer's reply that reopens a ticket is
credited to the intake, under the customer's name."""

import pytest

from tickets.lifecycle import update_ticket
from tickets.models import Ticket, TicketEvent
from tickets.tests.factories import UserFactory
from twitter_channel.intake import conversion, polling
from twitter_channel.models import XAccount

from .intake_helpers import BRAND_ID, FakeX, tweet

ALICE = "111"


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


@pytest.fixture
def x(account):
    fake = FakeX()
    fake.add_user(ALICE, "alice", name="Alice A")
    return fake


def poll(x, account):
    polling.poll_stream(account.pk, "mentions", client_factory=x.client_for)
    conversion.convert_pending(account.pk)


def test_a_reply_on_x_that_reopens_the_ticket_is_logged_as_the_x_intake(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    ticket = Ticket.objects.get()
    agent = UserFactory(first_name="Maria")
    update_ticket(ticket, status=Ticket.Status.PENDING, actor=agent)
    x.mentions.append(tweet("@AcmeHelp still broken", ALICE, reply_to=root["id"], conversation_id=root["id"]))

    poll(x, account)

    agents_change, intake_change = ticket.events.all()
    assert (agents_change.actor_kind, agents_change.new_value) == (TicketEvent.ActorKind.AGENT, "pending")
    assert (intake_change.actor_kind, intake_change.actor_name, intake_change.actor_user) == (
        TicketEvent.ActorKind.X_INTAKE, ticket.requester.name, None
    )
    assert (intake_change.field, intake_change.old_value, intake_change.new_value) == ("status", "pending", "open")


def test_a_new_ticket_from_x_writes_no_change(x, account):
    x.mentions.append(tweet("@AcmeHelp hello", ALICE))
    poll(x, account)
    assert not TicketEvent.objects.exists()
