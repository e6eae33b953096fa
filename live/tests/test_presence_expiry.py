"""Presence ends soon after a page's socket vanishes without a close frame (a laptop lid
shut, the network gone): the server pings every heartbeat, a socket that stops answering is
closed, and every other screen on the ticket is told it left. Heartbeats are shortened here
(0.25 s, silent after 2 s) so the tests wait seconds, not half a minute."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from live.models import Viewer
from tickets.comments import open_ticket_with_comment
from tickets.tests.factories import RequesterFactory
from tickets.tests.ui_fixtures import *  # noqa: F403

from .helpers import first_of, listen, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_heartbeat(settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.25
    settings.LIVE_SILENCE_SECONDS = 2.0


@pytest.fixture
def ticket(db):
    return open_ticket_with_comment(requester=RequesterFactory(), subject="Printer on fire", body="help").ticket


def _names(presence: dict) -> list[str]:
    return [v["name"] for v in presence["viewers"]]


async def _presence_naming(socket, user) -> dict:
    """The first presence message that lists `user` (the page's own arrival comes first)."""
    while True:
        presence = await first_of(socket, "presence")
        if str(user) in _names(presence):
            return presence


def test_a_socket_that_goes_silent_stops_viewing_on_the_others_screens(ticket, agent, admin_user):
    async def scenario():
        watcher = await open_socket(agent, page="ticket", ticket=ticket.pk, last_comment=None)
        ghost = await open_socket(admin_user, page="ticket", ticket=ticket.pk, last_comment=None)
        seen = await _presence_naming(watcher, admin_user)
        started = asyncio.get_running_loop().time()
        # The watcher's page answers pings; the ghost's answers nothing and never closes.
        (heard, watcher_closed), (_, ghost_closed) = await asyncio.gather(
            listen(watcher, 4.5), listen(ghost, 4.5, answer_pings=False)
        )
        await watcher.disconnect()
        return seen, heard, watcher_closed, ghost_closed, asyncio.get_running_loop().time() - started

    seen, heard, watcher_closed, ghost_closed, _ = async_to_sync(scenario)()
    assert _names(seen) == [str(admin_user)]
    presences = [m for m in heard if m["type"] == "presence"]
    assert presences and _names(presences[-1]) == [], "the watcher's screen should drop the silent agent"
    assert ghost_closed == 4408 and watcher_closed is None
    assert not Viewer.objects.filter(user=admin_user).exists()


def test_a_live_socket_stays_present(ticket, agent, admin_user):
    async def scenario():
        watcher = await open_socket(agent, page="ticket", ticket=ticket.pk, last_comment=None)
        other = await open_socket(admin_user, page="ticket", ticket=ticket.pk, last_comment=None)
        await _presence_naming(watcher, admin_user)
        # Three times the silence limit, both pages answering every ping.
        (heard, watcher_closed), (pings, other_closed) = await asyncio.gather(listen(watcher, 6.0), listen(other, 6.0))
        await watcher.disconnect()
        await other.disconnect()
        return heard, pings, watcher_closed, other_closed

    heard, pings, watcher_closed, other_closed = async_to_sync(scenario)()
    assert watcher_closed is None and other_closed is None
    assert len([m for m in pings if m["type"] == "ping"]) >= 5
    assert all(_names(m) == [str(admin_user)] for m in heard if m["type"] == "presence")


def test_presence_left_by_a_killed_web_process_expires_on_screens(ticket, agent, admin_user):
    # Another web process had this page open and was killed: nobody will close it or touch it.
    Viewer.objects.create(ticket_id=ticket.pk, user=admin_user, channel_name="killed-process!1", seen_at=timezone.now())

    async def scenario():
        watcher = await open_socket(agent, page="ticket", ticket=ticket.pk, last_comment=None)
        seen = await first_of(watcher, "presence")
        heard, _ = await listen(watcher, 4.5)
        await watcher.disconnect()
        return seen, heard

    seen, heard = async_to_sync(scenario)()
    assert _names(seen) == [str(admin_user)]
    presences = [m for m in heard if m["type"] == "presence"]
    assert presences and _names(presences[-1]) == []
    assert not Viewer.objects.filter(channel_name="killed-process!1").exists()


def test_the_queue_unmarks_a_ticket_whose_viewer_went_silent(ticket, agent, admin_user):
    async def scenario():
        queue = await open_socket(agent, page="queue", path="/views/open/", query="", shown=[ticket.pk])
        await first_of(queue, "queue")
        ghost = await open_socket(admin_user, page="ticket", ticket=ticket.pk, last_comment=None)
        marked = await first_of(queue, "viewing")
        (heard, _), _ = await asyncio.gather(listen(queue, 4.5), listen(ghost, 4.5, answer_pings=False))
        await queue.disconnect()
        return marked, heard

    marked, heard = async_to_sync(scenario)()
    assert marked["names"] == [str(admin_user)]
    viewing = [m for m in heard if m["type"] == "viewing"]
    assert viewing and viewing[-1] == {"type": "viewing", "ticket": ticket.pk, "names": []}
