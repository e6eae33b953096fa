"""A socket lives no longer than the sign-in it was opened with: logging out closes that
session's sockets (and no other), and deactivating a user or changing their password closes
all of theirs. The close travels as a LiveEvent, so it works whichever process (a web
worker, the admin, a management command) did it. Sockets carry a real session cookie here,
through Channels' own session and auth middleware."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.contrib.sessions.models import Session
from django.test import Client

from tickets.comments import open_ticket_with_comment
from tickets.tests.factories import RequesterFactory
from tickets.tests.ui_fixtures import *  # noqa: F403

from .helpers import first_of, in_db, listen, session_socket

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = {"page": "queue", "path": "/views/open/", "query": "", "shown": []}


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _new_ticket():
    return open_ticket_with_comment(requester=RequesterFactory(), subject="Arrived after the logout", body="?").ticket


def _mentions(messages, ticket) -> bool:
    return any(ticket.pk in (m.get("ids") or []) or f"#{ticket.pk} " in m.get("text", "") for m in messages)


def test_logging_out_closes_that_sessions_socket_and_it_hears_nothing_more(agent):
    laptop, phone = _signed_in(agent), _signed_in(agent)

    async def scenario():
        on_laptop = await session_socket(laptop, **QUEUE)
        on_phone = await session_socket(phone, **QUEUE)
        await first_of(on_laptop, "queue")
        await first_of(on_phone, "queue")
        response = await in_db(laptop.post)("/logout/")
        _, laptop_closed = await listen(on_laptop, 2.0)
        ticket = await in_db(_new_ticket)()
        (after, _), (phone_heard, phone_closed) = await asyncio.gather(listen(on_laptop, 1.0), listen(on_phone, 1.0))
        await on_phone.disconnect()
        return response, laptop_closed, ticket, after, phone_heard, phone_closed

    response, laptop_closed, ticket, after, phone_heard, phone_closed = async_to_sync(scenario)()
    assert response.status_code == 302
    assert laptop_closed == 4401
    assert after == []
    # The other sign-in of the same agent is untouched and still live.
    assert phone_closed is None and _mentions(phone_heard, ticket)


@pytest.mark.parametrize("change", ["deactivate", "new password"])
def test_deactivating_or_changing_the_password_closes_every_socket_of_the_user(agent, admin_user, change):
    laptop, colleague = _signed_in(agent), _signed_in(admin_user)

    def apply():
        agent.refresh_from_db()
        if change == "deactivate":
            agent.is_active = False
        else:
            agent.set_password("a-new-secret-123")
        agent.save()

    async def scenario():
        socket = await session_socket(laptop, **QUEUE)
        other = await session_socket(colleague, **QUEUE)
        await first_of(socket, "queue")
        await first_of(other, "queue")
        await in_db(apply)()
        (heard, closed), (_, other_closed) = await asyncio.gather(listen(socket, 2.0), listen(other, 2.0))
        await other.disconnect()
        return heard, closed, other_closed

    heard, closed, other_closed = async_to_sync(scenario)()
    assert closed == 4401 and other_closed is None


def test_a_login_timestamp_alone_closes_nothing(agent):
    laptop = _signed_in(agent)

    async def scenario():
        socket = await session_socket(laptop, **QUEUE)
        await first_of(socket, "queue")
        await in_db(_signed_in)(agent)  # another login saves last_login on the same user
        _, closed = await listen(socket, 1.0)
        await socket.disconnect()
        return closed

    assert async_to_sync(scenario)() is None


def test_a_session_ended_without_a_signal_closes_at_the_next_heartbeat(agent, settings):
    # Sessions expire, or are cleared in bulk (clearsessions, a DELETE): no signal says so.
    settings.LIVE_HEARTBEAT_SECONDS = 0.25
    settings.LIVE_SILENCE_SECONDS = 2.0
    laptop = _signed_in(agent)

    async def scenario():
        socket = await session_socket(laptop, **QUEUE)
        await first_of(socket, "queue")
        await in_db(Session.objects.all().delete)()
        return await listen(socket, 3.0)

    _, closed = async_to_sync(scenario)()
    assert closed == 4401
