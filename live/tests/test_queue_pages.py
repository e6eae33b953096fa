"""The live queue shows the rows the queue page shows: cursor pages (keyset) and searches
ask the same page function (`tickets.queue_page.page_ids`)."""

import html
import re
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from live.audience import Subscription, queue_state
from tickets.models import Tag
from tickets.tests.factories import TicketFactory
from tickets.tests.ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

QUEUE = reverse("tickets:queue_view", args=["all"])


@pytest.fixture
def tickets(settings):
    settings.TICKETS_PER_PAGE = 2
    return [TicketFactory(subject=f"ticket {i}", priority=[1, 2, 2, 3, 4, 2, 1][i]) for i in range(7)]


def ids(response) -> list[int]:
    return [t.pk for t in response.context["page"].object_list]


def link(response, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.content.decode())
    return QUEUE + html.unescape(found.group(1)) if found else None


def test_the_live_queue_shows_the_same_rows_as_the_cursor_page(client, agent, tickets):
    client.force_login(agent)
    url = link(client.get(link(client.get(QUEUE, {"sort": "-priority"}), "next")), "next")
    response = client.get(url)
    query = QueryDict(url.split("?", 1)[1])
    state = queue_state(Subscription(user=agent, channel_name="test", path=QUEUE, query=query))
    assert state["ids"] == ids(response) and state["ids"]


def test_the_live_queue_shows_the_same_rows_as_a_search_page(client, agent, tickets):
    client.force_login(agent)
    response = client.get(QUEUE, {"q": "ticket", "page": "2"})
    query = QueryDict("q=ticket&page=2")
    state = queue_state(Subscription(user=agent, channel_name="test", path=QUEUE, query=query))
    assert state["ids"] == ids(response) and len(state["ids"]) == 2


def test_sockets_on_the_same_queue_share_one_page_and_others_get_their_own(
    monkeypatch, agent, restricted, allowed_ticket, forbidden_ticket
):
    from live import audience
    from live.audience import Batch
    from tickets.models import User
    from tickets.queue_page import page_ids

    computed = []

    def counting_page_ids(tickets, *args, **kwargs):
        computed.append(1)
        return page_ids(tickets, *args, **kwargs)

    monkeypatch.setattr(audience, "page_ids", counting_page_ids)
    agents = [agent, *(User.objects.create_user(f"agent{n}", role=User.Role.AGENT) for n in range(4))]
    batch = Batch()

    states = {
        user.username: queue_state(Subscription(user=user, channel_name=user.username, path=QUEUE, query=QueryDict()),
                                   batch=batch)
        for user in [*agents, restricted]
    }

    assert len(computed) == 2  # the five agents' page once, the restricted agent's own
    assert {tuple(states[user.username]["ids"]) for user in agents} == {(forbidden_ticket.pk, allowed_ticket.pk)}
    assert states["rita"]["ids"] == [allowed_ticket.pk]


def test_the_live_queue_pushes_the_row_the_page_draws(client, agent, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ticket = TicketFactory(subject="Same row", next_breach_at=timezone.now() + timedelta(hours=3))
    ticket.tags.add(Tag.objects.create(name="vip"))
    client.force_login(agent)
    page_row = _row(client.get(QUEUE).content.decode(), ticket)

    state = queue_state(Subscription(user=agent, channel_name="test", path=QUEUE, query=QueryDict()),
                        everything=True)

    assert _row(state["rows"][str(ticket.pk)], ticket) == page_row


def _row(body: str, ticket) -> str:
    return re.search(rf'<tr data-ticket="{ticket.pk}">.*?</tr>', body, re.S).group(0)
