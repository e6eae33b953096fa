"""Deep queue pages by keyset: Next/Previous links carry cursors, every sort pages through
every ticket exactly once, and no cursor page is read by OFFSET."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets.filters import SORTS
from tickets.models import Ticket

from .factories import TicketFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

QUEUE = reverse("tickets:queue_view", args=["all"])


@pytest.fixture
def tickets(settings):
    settings.TICKETS_PER_PAGE = 2
    now = timezone.now()
    made = []
    for i in range(7):
        ticket = TicketFactory(
            subject=f"ticket {i}",
            priority=[1, 2, 2, 3, 4, 2, 1][i],
            status=list(Ticket.Status.values)[i % 6],
            # Some tickets without a running clock: the breach sort puts NULLs last.
            next_breach_at=None if i % 3 == 0 else now + timedelta(hours=[5, 1, 5, 2, 9, 1, 3][i]),
        )
        made.append(ticket)
    # Ties on updated_at, so the id tie-breaker has work to do.
    Ticket.objects.filter(pk__in=[t.pk for t in made[:3]]).update(updated_at=now)
    return made


def ids(response) -> list[int]:
    return [t.pk for t in response.context["page"].object_list]


def link(response, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.content.decode())
    return QUEUE + html.unescape(found.group(1)) if found else None


@pytest.mark.parametrize("sort", [s for s in SORTS if s != "relevance"])
def test_next_and_previous_links_page_through_every_ticket_once_in_order(client, agent, tickets, sort):
    from tickets.filters import apply_sort

    expected = list(apply_sort(Ticket.objects.all(), sort).values_list("pk", flat=True))
    client.force_login(agent)
    response = client.get(QUEUE, {"sort": sort})
    pages = [ids(response)]
    while url := link(response, "next"):
        response = client.get(url)
        pages.append(ids(response))
    assert [pk for page in pages for pk in page] == expected
    assert len(pages) == 4 and response.context["page"].number == 4
    # And back: each Previous page is the page that came before it.
    for page in reversed(pages[:-1]):
        response = client.get(link(response, "prev"))
        assert ids(response) == page
    assert link(response, "prev") is None


def test_cursor_pages_are_read_without_offset(client, agent, tickets):
    client.force_login(agent)
    second = link(client.get(QUEUE), "next")
    third = link(client.get(second), "next")
    assert "after=" in third and "page=3" in third
    with CaptureQueriesContext(connection) as captured:
        response = client.get(third)
    assert response.context["page"].number == 3
    assert not [q["sql"] for q in captured.captured_queries if "OFFSET" in q["sql"]]


def test_last_page_holds_the_rest_and_is_read_backwards(client, agent, tickets):
    client.force_login(agent)
    expected = list(Ticket.objects.order_by("-updated_at", "-id").values_list("pk", flat=True))
    for page in ("last", "99", "4"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE, {"page": page})
        assert ids(response) == expected[6:]
        assert not [q["sql"] for q in captured.captured_queries if "OFFSET" in q["sql"]]
    assert response.context["page"].number == 4
    assert ids(client.get(link(response, "prev"))) == expected[4:6]


def test_a_garbled_or_foreign_cursor_is_the_first_page(client, agent, tickets):
    client.force_login(agent)
    first = ids(client.get(QUEUE))
    for cursor in ("nonsense", "W10", "WyJ4Il0", "WzEsMl0"):  # junk, [], ["x"], [1, 2] for a date sort
        assert ids(client.get(QUEUE, {"after": cursor})) == first


def test_a_cursor_past_the_last_row_shows_the_last_page(client, agent, tickets):
    client.force_login(agent)
    response = client.get(QUEUE, {"page": "last"})
    last_ids = ids(response)
    Ticket.objects.filter(pk__in=last_ids).delete()
    # The Next link of the page before pointed at rows that are gone.
    response = client.get(QUEUE, {"page": "last"})
    assert ids(response) and response.context["page"].has_next is False


def test_a_big_queue_says_about_how_many_without_counting_them_all(client, agent, tickets, monkeypatch):
    monkeypatch.setattr("tickets.estimates.EXACT_COUNT_UP_TO", 5)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("tickets:queue_view", args=["open"]), {"priority": 2})
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts)
    # Three open tickets of priority 2 at most: under the limit, exact.
    assert "about" not in response.content.decode().split("</h1>")[1][:200]
    response = client.get(QUEUE)
    assert response.context["page"].count_is_estimate
    assert "about " in response.content.decode()


@pytest.mark.parametrize(("count", "estimate", "shown"), [
    (1204, False, "1,204"),
    (49_909, True, "about 50,000"),
    (1_234_567, True, "about 1,200,000"),
    (1001, True, "about 1,000"),
])
def test_the_count_reads_with_separators_and_an_estimate_no_more_exact_than_it_is(count, estimate, shown):
    from tickets.queue_page import QueuePage

    page = QueuePage(ids=[], count=count, number=1, num_pages=1, count_is_estimate=estimate)
    assert page.count_shown == shown
