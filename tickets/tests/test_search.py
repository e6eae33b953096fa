"""Full-text search (tickets.search): words through the search vectors PostgreSQL keeps,
people and partial words through trigrams, both plans (UNION and the common-word walk)
giving the same tickets, ranking, access, and the vectors following every write."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from tickets import search
from tickets.access import visible_tickets
from tickets.models import Channel, Comment, Ticket

from .factories import CommentFactory, RequesterFactory, TicketFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def newest_first(qs=None):
    return (qs if qs is not None else Ticket.objects.all()).order_by("-updated_at", "-id")


@pytest.fixture(params=["union", "walk"])
def plan(request, monkeypatch):
    """Run the test under each plan: the chooser is PostgreSQL's estimate, which tiny test
    tables cannot steer, so it is set here (the chooser has its own test below)."""
    share = None if request.param == "union" else 0.5
    monkeypatch.setattr(search, "_share_to_walk", lambda query, limit: share)
    # Small chunks, so the walk crosses several chunks (keyset cursors) in these tests.
    monkeypatch.setattr(search, "WALK_CHUNK_MIN", 2)
    return request.param


def test_words_are_found_in_subjects_and_messages_with_stemming(plan):
    by_subject = TicketFactory(subject="Refunds are late")
    by_message = TicketFactory(subject="Hello")
    CommentFactory(ticket=by_message, body="I asked for a refund twice")
    TicketFactory(subject="Unrelated", requester__name="Ann Lee")
    found = search.find(newest_first(), "refund", limit=10)
    assert set(found) == {by_subject.pk, by_message.pk}


def test_websearch_syntax_phrases_or_and_exclusion(plan):
    both = TicketFactory(subject="card declined at checkout")
    card_only = TicketFactory(subject="new card please")
    checkout_only = TicketFactory(subject="checkout broken")
    assert set(search.find(newest_first(), "card checkout", limit=10)) == {both.pk}
    assert set(search.find(newest_first(), '"declined at checkout"', limit=10)) == {both.pk}
    assert set(search.find(newest_first(), "card or checkout", limit=10)) == {both.pk, card_only.pk, checkout_only.pk}
    assert set(search.find(newest_first(), "card -checkout", limit=10)) == {card_only.pk}


def test_both_plans_find_the_same_tickets_in_the_queue_order(plan):
    matching = []
    for i in range(9):
        ticket = TicketFactory(subject=f"Ticket {i}", requester__name="Ann Lee")
        CommentFactory(ticket=ticket, body="the parcel is late" if i % 3 else "all fine")
        if i % 3:
            matching.append(ticket.pk)
    expected = list(newest_first().filter(pk__in=matching).values_list("pk", flat=True))
    assert search.find(newest_first(), "parcel", limit=100) == expected
    assert search.find(newest_first(), "parcel", limit=3) == expected[:3]


def test_the_walk_follows_any_queue_sort(monkeypatch):
    monkeypatch.setattr(search, "_share_to_walk", lambda query, limit: 0.5)
    monkeypatch.setattr(search, "WALK_CHUNK_MIN", 2)
    from tickets.filters import SORTS, apply_sort

    for i in range(7):
        TicketFactory(subject=f"printer {i}", priority=i % 4 + 1, status=list(Ticket.Status.values)[i % 6])
    TicketFactory(subject="other")
    for sort in SORTS:
        queue = apply_sort(Ticket.objects.all(), sort)
        expected = list(queue.filter(subject__startswith="printer").values_list("pk", flat=True))
        assert search.find(queue, "printer", limit=100) == expected, sort


def test_ranking_puts_subject_matches_and_denser_messages_first(plan):
    in_message = TicketFactory(subject="Hello")
    CommentFactory(ticket=in_message, body="my parcel")
    in_subject = TicketFactory(subject="Parcel missing")
    dense = TicketFactory(subject="Question")
    CommentFactory(ticket=dense, body="parcel parcel parcel, the parcel again")
    ranked = search.find(newest_first(), "parcel", limit=10, ranked=True)
    assert ranked[0] == in_subject.pk
    assert ranked.index(dense.pk) < ranked.index(in_message.pk)


def test_search_stays_within_what_a_restricted_agent_may_see(plan, restricted, support_group, billing_group):
    mine = TicketFactory(subject="printer jam", group=support_group, channel=Channel.EMAIL)
    foreign = TicketFactory(subject="hello", group=billing_group, channel=Channel.EMAIL)
    CommentFactory(ticket=foreign, body="printer jam again")
    assert search.find(newest_first(visible_tickets(restricted)), "printer", limit=10) == [mine.pk]


def test_people_and_partial_words_use_trigrams(plan):
    grace = RequesterFactory(name="Grace Hopper")
    ticket = TicketFactory(subject="Compiler question", requester=grace)
    TicketFactory(subject="Other", requester__name="Ann Lee")
    assert search.find(newest_first(), "Hopp", limit=10) == [ticket.pk]
    assert search.find(newest_first(), "Compil", limit=10) == [ticket.pk]


def test_vectors_follow_edits_and_redaction_in_the_same_statement(plan):
    ticket = TicketFactory(subject="Hello")
    comment = CommentFactory(ticket=ticket, body="my address is Main Street")
    assert search.find(newest_first(), "Main Street", limit=10) == [ticket.pk]
    # A queryset update, as redaction and erasure write: no save() signal involved.
    Comment.objects.filter(pk=comment.pk).update(body="[Deleted on X]")
    assert search.find(newest_first(), "Main Street", limit=10) == []
    Ticket.objects.filter(pk=ticket.pk).update(subject="Main Street again")
    assert search.find(newest_first(), "Main Street", limit=10) == [ticket.pk]


def test_the_plan_is_the_walk_for_a_common_word_and_the_union_for_a_rare_one():
    requester = RequesterFactory()
    tickets = Ticket.objects.bulk_create(Ticket(subject=f"t{i}", requester=requester) for i in range(300))
    Comment.objects.bulk_create(
        Comment(ticket=t, body="refund please" + (" chargeback" if n == 0 and i == 0 else ""))
        for i, t in enumerate(tickets)
        for n in range(4)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("ANALYZE tickets_comment")
    common = search.SearchQuery("refund", search_type="websearch", config="english")
    rare = search.SearchQuery("chargeback", search_type="websearch", config="english")
    assert search._share_to_walk(common, 20) == pytest.approx(1.0, abs=0.05)
    assert search._share_to_walk(rare, 20) is None


def test_the_search_language_can_be_changed_and_the_vectors_rebuilt(settings):
    ticket = TicketFactory(subject="Refund")
    assert search.find(newest_first(), "refunds", limit=10) == [ticket.pk]  # English stems
    settings.SEARCH_LANGUAGE = "simple"  # no stemming: "refunds" is not "refund"
    call_command("rebuild_search_vectors", stdout=open("/dev/null", "w"))
    assert search.find(newest_first(), "refunds", limit=10) == []
    assert search.find(newest_first(), "refund", limit=10) == [ticket.pk]
    later = TicketFactory(subject="Refund again")  # the trigger writes the new language too
    assert search.find(newest_first(), "refunds", limit=10) == []
    assert later.pk in search.find(newest_first(), "refund", limit=10)


def test_without_postgresql_search_scans_with_icontains(monkeypatch):
    """SQLite (`make run`) has no vectors; the fallback finds subjects, messages, people."""
    monkeypatch.setattr(connection, "vendor", "sqlite")
    by_message = TicketFactory(subject="Hello")
    CommentFactory(ticket=by_message, body="my parcel is late")
    by_subject = TicketFactory(subject="Parcel lost")
    TicketFactory(subject="Other", requester__name="Ann Lee")
    assert set(search.find(newest_first(), "parcel", limit=10)) == {by_message.pk, by_subject.pk}


def test_queue_search_is_ranked_unless_a_sort_is_chosen(client, agent):
    in_message = TicketFactory(subject="Hello")
    CommentFactory(ticket=in_message, body="parcel")
    in_subject = TicketFactory(subject="Parcel missing")
    Ticket.objects.filter(pk=in_message.pk).update(updated_at=in_subject.updated_at.replace(year=2099))
    client.force_login(agent)
    url = reverse("tickets:queue_view", args=["all"])
    ranked = client.get(url, {"q": "parcel"})
    assert [t.pk for t in ranked.context["page"].object_list] == [in_subject.pk, in_message.pk]
    assert 'value="relevance" selected' in ranked.content.decode()
    recent = client.get(url, {"q": "parcel", "sort": "-updated"})
    assert [t.pk for t in recent.context["page"].object_list] == [in_message.pk, in_subject.pk]
