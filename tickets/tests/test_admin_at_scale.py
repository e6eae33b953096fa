"""The admin's big lists: no exact COUNT past EXACT_COUNT_UP_TO rows, searches through the
full-text index. (Their speed at 1M tickets / 5M comments is in `python -m bench pages`.)"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tickets import estimates
from tickets.models import Comment, Ticket

from .factories import AdminFactory, CommentFactory, RequesterFactory, TicketFactory

pytestmark = pytest.mark.django_db

TICKETS = reverse("admin:tickets_ticket_changelist")
COMMENTS = reverse("admin:tickets_comment_changelist")


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


@pytest.fixture
def many(monkeypatch):
    """Twelve tickets with two comments each, and a counting limit of five, analyzed."""
    monkeypatch.setattr(estimates, "EXACT_COUNT_UP_TO", 5)
    requester = RequesterFactory()
    tickets = Ticket.objects.bulk_create(Ticket(subject=f"Parcel {i}", requester=requester) for i in range(12))
    Comment.objects.bulk_create(Comment(ticket=t, body=f"reply {n}") for t in tickets for n in range(2))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("ANALYZE tickets_comment")
    return tickets


def unbounded_counts(captured) -> list[str]:
    """COUNT queries over a whole table or filter, not over a LIMITed subquery."""
    return [
        q["sql"] for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and "LIMIT" not in q["sql"].upper() and '"tickets_' in q["sql"]
        and "tickets_user" not in q["sql"] and "tickets_group" not in q["sql"]
    ]


@pytest.mark.parametrize("url", [TICKETS, COMMENTS])
def test_big_lists_show_the_planner_estimate_not_an_exact_count(admin_client, many, url):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert unbounded_counts(captured) == []
    expected = 12 if url == TICKETS else 24  # what ANALYZE counted, read from pg_class
    assert response.context["cl"].result_count == expected


def test_a_filtered_list_counts_exactly_up_to_the_limit(admin_client, many):
    Ticket.objects.filter(pk__in=[t.pk for t in many[:3]]).update(status=Ticket.Status.OPEN)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(TICKETS, {"status__exact": "open"})
    assert response.context["cl"].result_count == 3
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(TICKETS, {"status__exact": "new"})
    # Nine rows: past the limit of five the count is the planner's estimate, and no query counted them all.
    assert response.context["cl"].result_count >= 6
    assert unbounded_counts(captured) == []


def test_ticket_search_finds_words_in_messages_and_people(admin_client):
    by_message = TicketFactory(subject="Hello")
    CommentFactory(ticket=by_message, body="the refunds never arrived")
    by_name = TicketFactory(subject="Other", requester__name="Grace Hopper")
    TicketFactory(subject="Unrelated", requester__name="Ann Lee")
    for text, expected in (("refund", [by_message]), ("Hopper", [by_name]), (str(by_name.pk), [by_name])):
        response = admin_client.get(TICKETS, {"q": text})
        assert list(response.context["cl"].result_list) == expected, text


def test_ticket_search_passes_its_matches_as_one_parameter(admin_client):
    # Up to 1,000 ids go to the count and the page: as `pk IN (…)` Django prepared each one
    # as a parameter of its own, twice, the slowest part of an admin search at 1M tickets.
    found = [TicketFactory(subject=f"Parcel lost {n}") for n in range(3)]
    TicketFactory(subject="Unrelated")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(TICKETS, {"q": "parcel"})
    assert sorted(response.context["cl"].result_list, key=lambda t: t.pk) == found
    listing = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "tickets_ticket"."id", ')]
    assert listing and all('"tickets_ticket"."id" IN (' not in sql for sql in listing)
    assert list(admin_client.get(TICKETS, {"q": "zzqx-nothing"}).context["cl"].result_list) == []


def test_comment_search_finds_words_ticket_numbers_and_external_ids(admin_client):
    ticket = TicketFactory(subject="Hello")
    refund = CommentFactory(ticket=ticket, body="where is my refund")
    tweet = CommentFactory(ticket=TicketFactory(), body="hi", external_source="tweet", external_id="1790000000000000001")
    assert list(admin_client.get(COMMENTS, {"q": "refunds"}).context["cl"].result_list) == [refund]
    assert list(admin_client.get(COMMENTS, {"q": str(ticket.pk)}).context["cl"].result_list) == [refund]
    assert list(admin_client.get(COMMENTS, {"q": tweet.external_id}).context["cl"].result_list) == [tweet]


def test_comment_list_is_newest_first(admin_client):
    older, newer = CommentFactory(), CommentFactory()
    html = admin_client.get(COMMENTS).content.decode()
    positions = [m.start() for pk in (newer.pk, older.pk) for m in [re.search(rf"/comment/{pk}/change/", html)]]
    assert positions == sorted(positions)


def test_the_ticket_list_reads_no_date_of_every_ticket(admin_client, many):
    # A date_hierarchy's year links were a DISTINCT over all tickets' dates (1.5 s at 1M).
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(TICKETS)
    assert [q["sql"] for q in captured.captured_queries if "DATE_TRUNC" in q["sql"].upper()] == []
