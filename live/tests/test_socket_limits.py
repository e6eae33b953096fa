"""What a hostile page can send: messages beyond a per-socket rate are dropped and a socket
that keeps flooding is closed (4429); a message above the size limit closes the socket
(1009); garbage is dropped without breaking the socket."""

import asyncio

import pytest
from asgiref.sync import async_to_sync

from tickets.comments import open_ticket_with_comment
from tickets.tests.factories import RequesterFactory
from tickets.tests.ui_fixtures import *  # noqa: F403

from .helpers import first_of, listen, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LIVE_MESSAGE_RATE = 5.0
    settings.LIVE_MESSAGE_BURST = 20
    settings.LIVE_FLOOD_TOLERANCE = 20
    settings.LIVE_MAX_MESSAGE_BYTES = 8192


@pytest.fixture
def ticket(db):
    return open_ticket_with_comment(requester=RequesterFactory(), subject="Printer on fire", body="help").ticket


def _typing(messages) -> list[dict]:
    return [m for m in messages if m["type"] == "typing"]


def test_a_typing_flood_is_cut_to_the_rate_and_the_flooder_closed(ticket, agent, admin_user):
    async def scenario():
        watcher = await open_socket(agent, page="ticket", ticket=ticket.pk, last_comment=None)
        flooder = await open_socket(admin_user, page="ticket", ticket=ticket.pk, last_comment=None)
        await first_of(watcher, "presence")
        for _ in range(500):
            await flooder.send_json_to({"type": "typing", "typing": True})
        (heard, watcher_closed), (_, flooder_closed) = await asyncio.gather(listen(watcher, 1.5), listen(flooder, 1.5))
        await watcher.disconnect()
        return heard, watcher_closed, flooder_closed

    heard, watcher_closed, flooder_closed = async_to_sync(scenario)()
    # The burst (minus the subscribe), plus what the rate refilled meanwhile: far from 500.
    assert 10 <= len(_typing(heard)) <= 30
    assert flooder_closed == 4429 and watcher_closed is None
    # The flooder is gone from the watcher's screen.
    assert [m for m in heard if m["type"] == "presence"][-1]["viewers"] == []


def test_typing_at_a_persons_pace_all_arrives(ticket, agent, admin_user):
    async def scenario():
        watcher = await open_socket(agent, page="ticket", ticket=ticket.pk, last_comment=None)
        typist = await open_socket(admin_user, page="ticket", ticket=ticket.pk, last_comment=None)
        await first_of(watcher, "presence")
        for _ in range(15):  # far livelier than live.js (one every 2.5 s), within the limits
            await typist.send_json_to({"type": "typing", "typing": True})
            await asyncio.sleep(0.15)
        heard, _ = await listen(watcher, 0.5)
        _, typist_closed = await listen(typist, 0.1)
        await watcher.disconnect()
        await typist.disconnect()
        return heard, typist_closed

    heard, typist_closed = async_to_sync(scenario)()
    assert typist_closed is None
    assert len(_typing(heard)) == 15


def test_an_oversized_message_closes_the_socket(agent):
    async def scenario():
        socket = await open_socket(agent)
        await socket.send_json_to({"type": "subscribe", "page": "queue", "path": "/views/open/", "shown": [1] * 10_000})
        return await listen(socket, 1.0)

    heard, closed = async_to_sync(scenario)()
    assert closed == 1009 and heard == []


def test_garbage_is_dropped_and_the_socket_keeps_working(agent):
    async def scenario():
        socket = await open_socket(agent)
        for text in ("not json", "[1, 2]", '{"type": "subscribe", "page": "queue", "path": "/views/open/", "shown": 5}',
                     '{"type": "subscribe", "page": "ticket", "ticket": {"a": 1}}', "\u0000"):
            await socket.send_input({"type": "websocket.receive", "text": text})
        await socket.send_input({"type": "websocket.receive", "bytes": b"\x00\x01"})
        await socket.send_json_to({"type": "subscribe", "page": "queue", "path": "/views/open/", "query": "", "shown": []})
        state = await first_of(socket, "queue")
        _, closed = await listen(socket, 0.3)
        await socket.disconnect()
        return state, closed

    state, closed = async_to_sync(scenario)()
    assert state["ids"] == [] and closed is None


def test_subscriptions_cost_more_than_typing(agent):
    # Each renders a queue page: a burst of 20 tokens buys four, not twenty.
    async def scenario():
        socket = await open_socket(agent)
        for _ in range(10):
            await socket.send_json_to({"type": "subscribe", "page": "queue", "path": "/views/open/", "query": "",
                                       "shown": []})
        heard, closed = await listen(socket, 2.0)
        await socket.disconnect()
        return heard, closed

    heard, closed = async_to_sync(scenario)()
    assert closed is None
    assert 4 <= len([m for m in heard if m["type"] == "queue"]) <= 6
