"""Access rules on the push path: a socket hears only of tickets its user could open."""

import pytest
from asgiref.sync import async_to_sync

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel
from tickets.tests.factories import RequesterFactory
from tickets.tests.ui_fixtures import *  # noqa: F403

from .helpers import first_of, in_db, messages_within, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def _open(subject, **fields):
    return open_ticket_with_comment(requester=RequesterFactory(), subject=subject, body="help", **fields).ticket


def _mentions(messages, ticket_id) -> list[dict]:
    """The messages that carry anything about the ticket."""
    found = []
    for message in messages:
        if str(ticket_id) in (message.get("rows") or {}) or ticket_id in (message.get("ids") or []):
            found.append(message)
        elif message["type"] == "notice" and f"#{ticket_id} " in message["text"]:
            found.append(message)
    return found


def test_restricted_agent_never_hears_of_a_ticket_outside_their_reach(restricted, support_group, billing_group):
    async def scenario():
        socket = await open_socket(restricted, page="queue", path="/views/open/", query="", shown=[])
        await first_of(socket, "queue")
        await socket.send_json_to({"type": "follow", "view": "open", "on": True})
        await first_of(socket, "followed")
        foreign = await in_db(_open)("Refund for invoice 42", group=billing_group, channel=Channel.EMAIL)
        allowed = await in_db(_open)("Printer on fire", group=support_group, channel=Channel.EMAIL)
        heard = await messages_within(socket, 1.5)
        await socket.disconnect()
        return foreign, allowed, heard

    foreign, allowed, heard = async_to_sync(scenario)()
    assert _mentions(heard, allowed.pk), "the allowed ticket should arrive"
    assert any(m["type"] == "notice" and m["kind"] == "new" for m in heard)
    assert _mentions(heard, foreign.pk) == []
    assert all("Refund for invoice" not in str(m) for m in heard)


def test_unrestricted_agent_sees_both(agent, support_group, billing_group):
    async def scenario():
        socket = await open_socket(agent, page="queue", path="/views/open/", query="", shown=[])
        await first_of(socket, "queue")
        foreign = await in_db(_open)("Refund for invoice 42", group=billing_group, channel=Channel.EMAIL)
        heard = await messages_within(socket, 1.5)
        await socket.disconnect()
        return foreign, heard

    foreign, heard = async_to_sync(scenario)()
    assert _mentions(heard, foreign.pk)


def test_ticket_moved_out_of_reach_leaves_the_queue_without_its_news(restricted, agent, support_group, billing_group):
    ticket = _open("Printer on fire", group=support_group, channel=Channel.EMAIL)

    async def scenario():
        socket = await open_socket(restricted, page="queue", path="/views/open/", query="", shown=[])
        state = await first_of(socket, "queue")
        assert state["ids"] == [ticket.pk]
        await in_db(update_ticket)(ticket, group=billing_group, actor=agent)
        update = await first_of(socket, "queue")
        await in_db(add_comment)(ticket, body="Secret billing detail", author_user=agent)
        later = await messages_within(socket, 1.0)
        await socket.disconnect()
        return update, later

    update, later = async_to_sync(scenario)()
    assert update["ids"] == [] and update["rows"] == {}
    assert later == [] or all("Secret billing" not in str(m) for m in later)
    assert _mentions(later, ticket.pk) == []


def test_ticket_page_of_a_foreign_ticket_gets_nothing(restricted, forbidden_ticket, agent):
    async def scenario():
        socket = await open_socket(restricted, page="ticket", ticket=forbidden_ticket.pk, last_comment=0)
        gone = await first_of(socket, "ticket.gone")
        await in_db(add_comment)(forbidden_ticket, body="Card number ends 4242", author_user=agent)
        later = await messages_within(socket, 1.0)
        await socket.disconnect()
        return gone, later

    gone, later = async_to_sync(scenario)()
    assert gone == {"type": "ticket.gone"}
    assert all("4242" not in str(m) for m in later)
    assert not [m for m in later if m["type"] in ("ticket", "presence", "typing")]


def test_anonymous_socket_is_refused():
    async def scenario():
        from django.contrib.auth.models import AnonymousUser

        from live.consumers import AgentConsumer

        from .helpers import WebsocketCommunicator

        socket = WebsocketCommunicator(AgentConsumer.as_asgi(), "/live/ws/")
        socket.scope["user"] = AnonymousUser()
        connected, code = await socket.connect()
        return connected, code

    connected, code = async_to_sync(scenario)()
    assert not connected and code == 4401


def test_agent_restricted_while_connected_stops_hearing_of_foreign_tickets(agent, support_group, billing_group):
    async def scenario():
        socket = await open_socket(agent, page="queue", path="/views/open/", query="", shown=[])
        await first_of(socket, "queue")
        # An admin restricts the agent to Support while their page is open.
        await in_db(_restrict)(agent, support_group)
        foreign = await in_db(_open)("Refund for invoice 42", group=billing_group, channel=Channel.EMAIL)
        heard = await messages_within(socket, 1.5)
        await socket.disconnect()
        return foreign, heard

    foreign, heard = async_to_sync(scenario)()
    assert _mentions(heard, foreign.pk) == []


def _restrict(user, group):
    from tickets.models import User

    User.objects.filter(pk=user.pk).update(role=User.Role.RESTRICTED)
    user.allowed_groups.add(group)
