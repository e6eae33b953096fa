"""The bench seeder at a tiny scale, so `python -m bench pages` cannot rot between runs.

The seeder writes with PostgreSQL COPY, so these tests need PostgreSQL (as CI has).
"""

import pytest
from django.db import connection
from django.db.models import Count

from bench import NeedsPostgres, use_bench_database
from bench.__main__ import module_names
from bench.pages import percentile
from bench.seed import BENCH_ADMIN, BENCH_AGENT, BENCH_RESTRICTED, Scale, big_ticket, is_seeded, seed
from tickets.access import visible_tickets
from tickets.comments import add_comment
from tickets.models import Comment, Group, Identity, Requester, Tag, Ticket, User

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the seeder writes with PostgreSQL COPY"),
]

TINY = Scale(tickets=50, comments=500, big_ticket_comments=100, requesters=20, agents=4, groups=3, tags=5)


@pytest.fixture
def seeded():
    return seed(TINY, log=lambda line: None)


def test_seeder_writes_the_requested_counts(seeded):
    assert Ticket.objects.count() == 50
    assert Comment.objects.count() == 500
    assert Requester.objects.count() == 20
    assert Group.objects.count() == 3
    assert Tag.objects.count() == 5
    assert User.objects.filter(role=User.Role.AGENT).count() == 4


def test_big_ticket_holds_exactly_its_comments(seeded):
    ticket = big_ticket()
    assert ticket.pk == seeded.big_ticket_id
    assert ticket.comments.count() == 100
    assert ticket.comment_count == 100


def test_every_ticket_counts_its_own_comments(seeded):
    counted = Ticket.objects.annotate(n=Count("comments")).values_list("comment_count", "n")
    assert all(stored == actual and actual >= 1 for stored, actual in counted)


def test_helpdesk_has_a_mix_of_statuses_channels_and_assignees(seeded):
    assert Ticket.objects.values("status").distinct().count() >= 4
    assert Ticket.objects.values("channel").distinct().count() >= 3
    assert Ticket.objects.filter(assignee__isnull=True).exists()
    assert Ticket.objects.filter(assignee__isnull=False).values("assignee").distinct().count() >= 2
    assert Ticket.objects.filter(solved_at__isnull=False).exclude(status__in=["solved", "closed"]).count() == 0


def test_requesters_have_identities_and_tickets_have_tags(seeded):
    assert Identity.objects.filter(kind=Identity.Kind.EMAIL).count() == 20
    assert Identity.objects.filter(kind=Identity.Kind.X).exists()
    assert Ticket.tags.through.objects.exists()


def test_inbound_x_comments_carry_external_ids(seeded):
    x_ticket = Ticket.objects.filter(channel="x").first()
    first = x_ticket.comments.order_by("created_at", "id").first()
    assert first.author_requester_id == x_ticket.requester_id
    assert first.external_source == Comment.Source.TWEET and first.external_id


def test_bench_users_exist_and_the_restricted_agent_sees_a_subset(seeded):
    assert User.objects.get(username=BENCH_AGENT).role == User.Role.AGENT
    assert User.objects.get(username=BENCH_ADMIN).is_admin
    restricted = User.objects.get(username=BENCH_RESTRICTED)
    assert 0 < visible_tickets(restricted).count() < 50


def test_the_app_can_add_rows_after_seeding(seeded):
    # Rows were copied with explicit ids; the sequences must have moved past them.
    ticket = Ticket.objects.exclude(pk=seeded.big_ticket_id).filter(status=Ticket.Status.OPEN).first()
    comment = add_comment(ticket, body="after the seed", author_requester=ticket.requester)
    assert comment.pk == 501
    assert Ticket.objects.create(subject="new", requester=ticket.requester).pk == 51


def test_reseeding_replaces_rows_instead_of_adding(seeded):
    seed(TINY, log=lambda line: None)
    assert Ticket.objects.count() == 50
    assert Comment.objects.count() == 500


def test_is_seeded_tells_a_seeded_database_from_an_empty_one():
    assert not is_seeded(TINY)
    seed(TINY, log=lambda line: None)
    assert is_seeded(TINY)
    assert not is_seeded(Scale(tickets=60, comments=500, big_ticket_comments=100, requesters=20))


def test_scale_refuses_too_few_comments_for_its_tickets():
    with pytest.raises(ValueError):
        Scale(tickets=100, comments=100, big_ticket_comments=50)


def test_bench_refuses_sqlite(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///db.sqlite3")
    with pytest.raises(NeedsPostgres, match="PostgreSQL"):
        use_bench_database()


def test_runner_finds_the_pages_benchmark():
    assert "pages" in module_names()


def test_p95_is_a_measured_value_not_an_interpolation():
    timings = [float(ms) for ms in range(1, 31)]
    assert percentile(timings, 95) == 29.0
    assert percentile(timings, 50) == 15.0
