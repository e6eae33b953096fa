"""The live queue shows the rows the queue page shows: cursor pages (keyset) and searches
ask the same page function (`tickets.queue_page.page_ids`)."""

import html
import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from live.audience import Subscription, queue_state
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
