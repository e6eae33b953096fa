"""Two agents answering one ticket at once: the second reply asks first."""

import pytest
from django.urls import reverse

from tickets.comments import add_comment
from tickets.models import Channel, User

from .factories import TicketFactory, UserFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _reply(client, ticket, body, seen):
    return client.post(reverse("tickets:reply", args=[ticket.pk]),
                       {"body": body, "kind": "public", "seen_comment_id": seen})


def test_reply_after_another_agents_reply_landed_is_held_and_asks(client, agent):
    ticket = TicketFactory(channel=Channel.WEB)
    first = add_comment(ticket, body="Is it plugged in?", author_requester=ticket.requester)
    page = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert f'name="seen_comment_id" value="{first.pk}"' in page.content.decode()
    colleague = UserFactory(username="ada", first_name="Ada", role=User.Role.AGENT)
    add_comment(ticket, body="I am on it", author_user=colleague)
    client.force_login(agent)

    held = _reply(client, ticket, "Try turning it off", first.pk)

    assert held.status_code == 409
    text = held.content.decode()
    assert "Ada answered this ticket since you opened it" in text
    assert "Try turning it off" in text  # the draft is kept
    assert not ticket.comments.filter(author_user=agent).exists()
    # The page that asked shows the colleague's reply; sending again from it goes through.
    newest = ticket.comments.order_by("-pk").first().pk
    assert f'name="seen_comment_id" value="{newest}"' in text
    sent = _reply(client, ticket, "Try turning it off", newest)
    assert sent.status_code == 302
    assert ticket.comments.filter(author_user=agent).count() == 1


def test_requester_messages_and_own_comments_do_not_ask(client, agent):
    ticket = TicketFactory(channel=Channel.WEB)
    seen = add_comment(ticket, body="hello", author_requester=ticket.requester).pk
    add_comment(ticket, body="my own note", author_user=agent, is_public=False)
    add_comment(ticket, body="anyone there?", author_requester=ticket.requester)
    client.force_login(agent)
    assert _reply(client, ticket, "yes", seen).status_code == 302


@pytest.fixture(autouse=True)
def _logged_in(client, agent):
    client.force_login(agent)
