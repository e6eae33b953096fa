import pytest
from django.urls import reverse

from tickets.models import Channel, Comment, Identity, Ticket

from .factories import CommentFactory, RequesterFactory, TicketFactory, XIdentityFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def subjects(response) -> list[str]:
    return [t.subject for t in response.context["page"].object_list]


def queue_url(slug="open", **params):
    from urllib.parse import urlencode

    return reverse("tickets:queue_view", args=[slug]) + ("?" + urlencode(params) if params else "")


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("tickets:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_renders_and_logs_in(client, agent):
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "alan", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:queue")


def test_unassigned_queue_lists_only_unassigned_unsolved(client, agent):
    TicketFactory(subject="nobody's")
    TicketFactory(subject="alan's", assignee=agent)
    TicketFactory(subject="solved one", status=Ticket.Status.SOLVED)
    client.force_login(agent)
    assert subjects(client.get(queue_url("unassigned"))) == ["nobody's"]


def test_mine_queue_lists_my_unsolved_tickets(client, agent, admin_user):
    TicketFactory(subject="alan's", assignee=agent)
    TicketFactory(subject="ada's", assignee=admin_user)
    TicketFactory(subject="alan's solved", assignee=agent, status=Ticket.Status.SOLVED)
    client.force_login(agent)
    assert subjects(client.get(queue_url("mine"))) == ["alan's"]


def test_solved_queue_lists_solved_and_closed(client, agent):
    TicketFactory(subject="open", status=Ticket.Status.OPEN)
    TicketFactory(subject="solved", status=Ticket.Status.SOLVED)
    TicketFactory(subject="closed", status=Ticket.Status.CLOSED)
    client.force_login(agent)
    assert sorted(subjects(client.get(queue_url("solved")))) == ["closed", "solved"]


def test_channel_queue_lists_open_tickets_of_that_channel(client, agent):
    TicketFactory(subject="tweet", channel=Channel.X)
    TicketFactory(subject="mail", channel=Channel.EMAIL)
    TicketFactory(subject="old tweet", channel=Channel.X, status=Ticket.Status.CLOSED)
    client.force_login(agent)
    assert subjects(client.get(reverse("tickets:channel_queue", args=["x"]))) == ["tweet"]


def test_unknown_queue_and_channel_are_404(client, agent):
    client.force_login(agent)
    assert client.get(queue_url("nonsense")).status_code == 404
    assert client.get(reverse("tickets:channel_queue", args=["fax"])).status_code == 404


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("status", "pending", ["pending one"]),
        ("priority", "4", ["urgent one"]),
        ("channel", "x", ["x one"]),
        ("tag", "vip", ["tagged one"]),
    ],
)
def test_filters_narrow_the_queue(client, agent, param, value, expected):
    from tickets.lifecycle import update_ticket

    TicketFactory(subject="pending one", status=Ticket.Status.PENDING)
    TicketFactory(subject="urgent one", priority=Ticket.Priority.URGENT)
    TicketFactory(subject="x one", channel=Channel.X)
    update_ticket(TicketFactory(subject="tagged one"), tags=["vip"])
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", **{param: value}))) == expected


def test_filter_by_group_and_assignee(client, agent, support_group):
    TicketFactory(subject="support", group=support_group)
    TicketFactory(subject="alan's", assignee=agent)
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", group=support_group.pk))) == ["support"]
    assert subjects(client.get(queue_url("all", assignee=agent.pk))) == ["alan's"]
    assert subjects(client.get(queue_url("all", assignee="none"))) == ["support"]


def test_invalid_filter_values_are_ignored(client, agent):
    TicketFactory(subject="one")
    client.force_login(agent)
    response = client.get(queue_url("all", status="bogus", priority="x", group="999999", sort="drop table"))
    assert response.status_code == 200
    assert subjects(response) == ["one"]


@pytest.mark.parametrize(
    "query",
    ["printer", "PRINTER", "toner cartridge", "Grace Hopper", "grace@example.com", "@gracehopper", "gracehopper"],
)
def test_search_finds_subject_comment_and_requester(client, agent, query):
    grace = RequesterFactory(name="Grace Hopper")
    Identity.objects.create(requester=grace, kind=Identity.Kind.EMAIL, value="grace@example.com")
    XIdentityFactory(requester=grace, handle="gracehopper")
    ticket = TicketFactory(subject="Printer jammed" if query.lower() == "printer" else "Help", requester=grace)
    CommentFactory(ticket=ticket, body="The toner cartridge leaks")
    TicketFactory(subject="Unrelated")
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", q=query))) == [ticket.subject]


def test_search_matches_a_ticket_once_however_many_comments_match(client, agent):
    ticket = TicketFactory(subject="Help")
    for _ in range(3):
        CommentFactory(ticket=ticket, body="refund please")
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", q="refund"))) == ["Help"]


def test_search_by_ticket_number(client, agent):
    ticket = TicketFactory(subject="Numbered")
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", q=str(ticket.pk)))) == ["Numbered"]


def test_sort_by_priority_and_status(client, agent):
    TicketFactory(subject="low", priority=Ticket.Priority.LOW, status=Ticket.Status.PENDING)
    TicketFactory(subject="urgent", priority=Ticket.Priority.URGENT, status=Ticket.Status.OPEN)
    TicketFactory(subject="normal", priority=Ticket.Priority.NORMAL, status=Ticket.Status.NEW)
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", sort="-priority"))) == ["urgent", "normal", "low"]
    # Workflow order, not alphabetical: new, open, pending.
    assert subjects(client.get(queue_url("all", sort="status"))) == ["normal", "urgent", "low"]


def test_sort_by_created(client, agent):
    TicketFactory(subject="first")
    TicketFactory(subject="second")
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", sort="created"))) == ["first", "second"]
    assert subjects(client.get(queue_url("all", sort="-created"))) == ["second", "first"]


def test_queue_is_paginated_and_keeps_filters_in_page_links(client, agent, settings):
    settings.TICKETS_PER_PAGE = 2
    for i in range(5):
        TicketFactory(subject=f"ticket {i}", channel=Channel.EMAIL)
    client.force_login(agent)
    response = client.get(queue_url("all", channel="email"))
    assert len(response.context["page"].object_list) == 2
    assert response.context["page"].num_pages == 3
    assert "channel=email&amp;page=2" in response.content.decode()
    assert len(client.get(queue_url("all", channel="email", page=3)).context["page"].object_list) == 1


def test_untrusted_text_is_escaped_in_the_queue(client, agent):
    TicketFactory(subject="<script>alert(1)</script>", requester=RequesterFactory(name="<b>Mallory</b>"))
    client.force_login(agent)
    html = client.get(queue_url("all")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html


def test_admin_sees_admin_links_in_nav_and_agent_does_not(client, agent, admin_user):
    client.force_login(admin_user)
    html = client.get(queue_url()).content.decode()
    assert 'href="/x/accounts/"' in html and 'href="/x/incoming/"' in html and 'href="/admin/"' in html
    client.force_login(agent)
    html = client.get(queue_url()).content.decode()
    assert "/x/accounts/" not in html and "/x/incoming/" not in html and 'href="/admin/"' not in html


def test_queue_does_not_grow_queries_with_rows(client, agent, django_assert_max_num_queries, support_group):
    from tickets.lifecycle import update_ticket

    def make(n):
        for _ in range(n):
            ticket = TicketFactory(assignee=agent, group=support_group)
            update_ticket(ticket, tags=["a", "b"])
            CommentFactory.create_batch(2, ticket=ticket)

    client.force_login(agent)
    make(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(queue_url("all", q="zz"))
        client.get(queue_url("all"))
    make(28)
    assert Ticket.objects.count() == 30 and Comment.objects.count() == 60
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(queue_url("all", q="zz"))
        response = client.get(queue_url("all"))
    assert len(response.context["page"].object_list) == 30


def test_search_finds_short_whole_words_in_messages_and_partial_words_in_subjects_only(client, agent):
    # Fixed requester names: a random one ("Brooke", "Okafor") would match "ok" by name.
    ticket = TicketFactory(subject="Help", requester__name="Ann Lee")
    CommentFactory(ticket=ticket, body="ok, printing again")
    TicketFactory(subject="ok computer", requester__name="Ann Lee")
    client.force_login(agent)
    # A whole word, however short, is found by the word index in messages and subjects.
    assert sorted(subjects(client.get(queue_url("all", q="ok")))) == ["Help", "ok computer"]
    # A partial word finds subjects (trigram), not messages: "print" is no word of "printing".
    assert subjects(client.get(queue_url("all", q="Hel"))) == ["Help"]
    assert subjects(client.get(queue_url("all", q="printi"))) == []
    # ...but the word index stems: "prints" and "printing" share "print".
    assert subjects(client.get(queue_url("all", q="print"))) == ["Help"]


def test_search_lists_a_ticket_once_when_several_places_match(client, agent):
    grace = RequesterFactory(name="Grace Refund")
    ticket = TicketFactory(subject="Refund please", requester=grace)
    CommentFactory(ticket=ticket, body="refund, refund")
    client.force_login(agent)
    response = client.get(queue_url("all", q="refund"))
    assert subjects(response) == ["Refund please"]
    assert response.context["page"].count == 1


def test_search_by_number_also_finds_the_text_elsewhere(client, agent):
    numbered = TicketFactory(subject="Numbered")
    mentioned = TicketFactory(subject=f"About ticket {numbered.pk}")
    client.force_login(agent)
    # The ticket with that number, and the one whose subject names it (ranked first: its
    # subject matches the words, the number matches no text).
    assert subjects(client.get(queue_url("all", q=str(numbered.pk)))) == [mentioned.subject, "Numbered"]


def test_search_stays_within_the_queue(client, agent):
    TicketFactory(subject="printer open")
    TicketFactory(subject="printer solved", status=Ticket.Status.SOLVED)
    client.force_login(agent)
    assert subjects(client.get(queue_url("open", q="printer"))) == ["printer open"]


def test_search_by_handle_ignores_email_identities_with_that_text_as_handle(client, agent):
    # The X arm matches handles of X identities only; an email identity is found by its value.
    grace = RequesterFactory(name="Grace")
    Identity.objects.create(requester=grace, kind=Identity.Kind.EMAIL, value="grace@example.com")
    TicketFactory(subject="Mail", requester=grace)
    client.force_login(agent)
    assert subjects(client.get(queue_url("all", q="@nobodyhere"))) == []
    assert subjects(client.get(queue_url("all", q="grace@example"))) == ["Mail"]


def test_every_page_keeps_the_sort_order_and_the_last_page_holds_the_rest(client, agent, settings):
    settings.TICKETS_PER_PAGE = 2
    created = [TicketFactory(subject=f"ticket {i}") for i in range(5)]
    client.force_login(agent)
    pages = [subjects(client.get(queue_url("all", sort="created", page=n))) for n in (1, 2, 3)]
    assert pages == [["ticket 0", "ticket 1"], ["ticket 2", "ticket 3"], ["ticket 4"]]
    # Past the end is the last page, as before the ids-first fetch.
    assert subjects(client.get(queue_url("all", sort="created", page=99))) == ["ticket 4"]
    assert [t.pk for t in client.get(queue_url("all", sort="-created")).context["page"].object_list] == [
        created[4].pk, created[3].pk
    ]


def test_page_rows_come_with_requester_assignee_group_and_tags(client, agent, support_group, django_assert_num_queries):
    from tickets.lifecycle import update_ticket

    update_ticket(TicketFactory(assignee=agent, group=support_group), tags=["vip"])
    client.force_login(agent)
    ticket = client.get(queue_url("all")).context["page"].object_list[0]
    with django_assert_num_queries(0):
        assert (ticket.requester.name, ticket.assignee, ticket.group) == (ticket.requester.name, agent, support_group)
        assert [t.name for t in ticket.tags.all()] == ["vip"]


def test_bulk_assign_list_offers_exactly_the_bulk_forms_assignees(client, agent, admin_user):
    import re

    from tickets.forms import BulkActionForm

    client.force_login(agent)
    html = client.get(queue_url("all")).content.decode()
    bulk_select = re.search(r'<select name="assignee" aria-label="Assignee"[^>]*>(.*?)</select>', html, re.S).group(1)
    offered = re.findall(r'<option value="(\d*)">', bulk_select)
    assert offered == [str(value) for value, _ in BulkActionForm().fields["assignee"].choices]
    assert str(agent.pk) in offered and str(admin_user.pk) in offered


def test_search_count_stops_at_the_cap_and_says_so(client, agent, settings, monkeypatch):
    monkeypatch.setattr("tickets.queue_page.SEARCH_RESULTS_CAP", 3)
    settings.TICKETS_PER_PAGE = 2
    for i in range(5):
        TicketFactory(subject=f"printer {i}")
    client.force_login(agent)
    response = client.get(queue_url("all", q="printer"))
    page = response.context["page"]
    assert (page.count, page.num_pages, page.capped) == (3, 2, True)
    assert "3+ tickets" in response.content.decode()
    # The newest first, and the last page ends at the cap.
    assert subjects(response) == ["printer 4", "printer 3"]
    assert subjects(client.get(queue_url("all", q="printer", page=2))) == ["printer 2"]


def test_search_under_the_cap_shows_the_exact_count(client, agent, monkeypatch):
    monkeypatch.setattr("tickets.queue_page.SEARCH_RESULTS_CAP", 3)
    for i in range(3):
        TicketFactory(subject=f"printer {i}")
    client.force_login(agent)
    response = client.get(queue_url("all", q="printer"))
    assert (response.context["page"].count, response.context["page"].capped) == (3, False)
    assert "3 tickets" in response.content.decode() and "3+ tickets" not in response.content.decode()


def test_queue_without_search_counts_everything(client, agent, monkeypatch):
    monkeypatch.setattr("tickets.queue_page.SEARCH_RESULTS_CAP", 3)
    for i in range(5):
        TicketFactory(subject=f"printer {i}")
    client.force_login(agent)
    page = client.get(queue_url("all")).context["page"]
    assert (page.count, page.capped) == (5, False)
