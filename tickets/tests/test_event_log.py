"""The ticket's event log: every property change, whoever made it, written with the change
and shown on the ticket page between the messages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets.comments import add_comment
from tickets.events import Actor
from tickets.lifecycle import update_ticket
from tickets.mail.inbound import ingest_email
from tickets.mail.testing import build_email
from tickets.mail.tokens import reply_address
from tickets.models import Channel, Identity, Ticket, TicketEvent

from .factories import GroupFactory, RequesterFactory, TicketFactory, UserFactory
from .page_forms import form_data
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
Kind = TicketEvent.ActorKind


def logged(ticket):
    return [(e.actor_kind, e.actor_name, e.field, e.old_label, e.new_label) for e in ticket.events.all()]


def test_an_agents_save_logs_each_field_with_the_agent(client):
    maria = UserFactory(username="maria", first_name="Maria")
    support = GroupFactory(name="Support")
    ticket = TicketFactory()
    client.force_login(maria)
    page = form_data(client.get(ticket.get_absolute_url()).content.decode(), "properties-form")

    client.post(
        reverse("tickets:update", args=[ticket.pk]),
        {**page, "priority": "4", "assignee": str(maria.pk), "group": str(support.pk), "tags": "vip"},
    )

    assert sorted(logged(ticket)) == [
        (Kind.AGENT, "Maria", "assignee", "Unassigned", "Maria"),
        (Kind.AGENT, "Maria", "group", "No group", "Support"),
        (Kind.AGENT, "Maria", "priority", "Normal", "Urgent"),
        (Kind.AGENT, "Maria", "tags", "(none)", "vip"),
    ]
    event = ticket.events.get(field="assignee")
    assert (event.actor_user, event.old_value, event.new_value) == (maria, None, maria.pk)


def test_an_agents_reply_that_opens_a_new_ticket_is_logged():
    agent = UserFactory(first_name="Maria")
    ticket = TicketFactory(status=Ticket.Status.NEW)
    add_comment(ticket, body="on it", author_user=agent)
    assert logged(ticket) == [(Kind.AGENT, "Maria", "status", "New", "Open")]


def test_an_email_reply_that_reopens_the_ticket_is_logged_as_email(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    requester = RequesterFactory(name="Ann Smith")
    Identity.objects.create(requester=requester, kind=Identity.Kind.EMAIL, value="ann@example.com")
    ticket = TicketFactory(requester=requester, channel=Channel.EMAIL, status=Ticket.Status.SOLVED)

    ingest_email(build_email(to=reply_address(ticket.pk), subject="Re: help", body="It broke again"))

    assert logged(ticket) == [(Kind.EMAIL, "Ann Smith", "status", "Solved", "Open")]
    assert ticket.events.get().actor_requester == requester  # so that erasing Ann finds her name here


def test_an_internal_note_changes_nothing_and_logs_nothing():
    ticket = TicketFactory(status=Ticket.Status.NEW)
    add_comment(ticket, body="looking", author_user=UserFactory(), is_public=False)
    assert not ticket.events.exists()


def test_an_automation_is_logged_under_its_title():
    ticket = TicketFactory(status=Ticket.Status.PENDING)
    update_ticket(ticket, status=Ticket.Status.SOLVED, actor=Actor.automation("Pending 48 h: solve"))
    assert logged(ticket) == [(Kind.AUTOMATION, "Pending 48 h: solve", "status", "Pending", "Solved")]


def test_a_message_from_the_web_is_logged_as_the_requester():
    ticket = TicketFactory(status=Ticket.Status.PENDING, channel=Channel.WEB, requester=RequesterFactory(name="Bo"))
    add_comment(ticket, body="hello?", author_requester=ticket.requester)
    assert logged(ticket) == [(Kind.REQUESTER, "Bo", "status", "Pending", "Open")]


def test_labels_stay_true_after_a_rename():
    agent = UserFactory(first_name="Maria")
    group = GroupFactory(name="Tier 1")
    ticket = TicketFactory()
    update_ticket(ticket, group=group, actor=agent)
    group.name = "Tier One"
    group.save()
    agent.first_name = "Mary"
    agent.save()
    event = ticket.events.get()
    assert (event.actor_name, event.new_label, event.new_value) == ("Maria", "Tier 1", group.pk)


# --- On the ticket page -------------------------------------------------------------------


def test_the_ticket_page_shows_changes_between_the_messages(client, agent):
    maria = UserFactory(username="maria", first_name="Maria")
    ticket = TicketFactory(status=Ticket.Status.NEW)
    add_comment(ticket, body="my printer is on fire", author_requester=ticket.requester)
    update_ticket(ticket, priority=Ticket.Priority.URGENT, add_tags=["fire"], actor=maria)
    add_comment(ticket, body="we are coming", author_user=maria)

    client.force_login(agent)
    html = client.get(ticket.get_absolute_url()).content.decode()

    change = html.index("set <span class=\"changes__field\">priority</span>")
    assert html.index("my printer is on fire") < change < html.index("we are coming")
    line = html[html.rindex("<li", 0, change):html.index("</li>", change)]
    assert "<strong>Maria</strong>" in line
    assert '<span class="changes__old">Normal</span> → <span class="changes__new">Urgent</span>' in line
    assert 'added tag <span class="tag">fire</span>' in line
    # The reply that opened the ticket comes right after the reply itself.
    assert html.index("we are coming") < html.index('<span class="changes__new">Open</span>')


def test_the_log_on_the_page_is_escaped(client, agent):
    evil = UserFactory(username="evil", first_name="<script>alert(1)</script>")
    ticket = TicketFactory()
    update_ticket(ticket, assignee=evil, actor=Actor.trigger("<img src=x onerror=alert(2)>"))
    client.force_login(agent)
    html = client.get(ticket.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "Trigger: &lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_older_pages_show_the_changes_of_their_own_stretch(client, agent, settings):
    settings.COMMENTS_PER_PAGE = 2
    ticket = TicketFactory()
    start = timezone.now() - timedelta(hours=5)
    comments = [add_comment(ticket, body=f"message {i}", author_requester=ticket.requester) for i in range(4)]
    for i, comment in enumerate(comments):
        type(comment).objects.filter(pk=comment.pk).update(created_at=start + timedelta(hours=i))
    update_ticket(ticket, priority=Ticket.Priority.HIGH, actor=agent)
    ticket.events.update(created_at=start + timedelta(hours=1, minutes=30))  # between messages 1 and 2
    client.force_login(agent)

    first_page = client.get(ticket.get_absolute_url() + "?page=1").content.decode()
    newest_page = client.get(ticket.get_absolute_url()).content.decode()

    assert 'changes__new">High' in first_page
    assert first_page.index("message 1") < first_page.index('changes__new">High')
    assert 'changes__new">High' not in newest_page


def test_the_log_adds_no_query_per_change(client, agent):
    ticket = TicketFactory()
    add_comment(ticket, body="hello", author_requester=ticket.requester)
    update_ticket(ticket, priority=Ticket.Priority.HIGH, actor=agent)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        client.get(ticket.get_absolute_url())

    others = UserFactory.create_batch(5)
    for i in range(30):
        update_ticket(
            ticket,
            priority=Ticket.Priority.LOW if i % 2 else Ticket.Priority.URGENT,
            assignee=others[i % 5],
            group=GroupFactory(),
            add_tags=[f"t{i}"],
            actor=others[i % 5] if i % 3 else Actor.trigger(f"Trigger {i}"),
        )
    with CaptureQueriesContext(connection) as many:
        html = client.get(ticket.get_absolute_url()).content.decode()

    assert html.count('class="changes ') == 31
    assert len(many.captured_queries) <= len(few.captured_queries)
