import pytest
from django.urls import reverse

from tickets import outbound
from tickets.comments import add_comment
from tickets.models import Channel, Comment, Identity, Ticket

from .factories import CommentFactory, RequesterFactory, TicketFactory, XIdentityFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_ticket_page_shows_conversation_in_order_with_notes_marked(client, agent):
    ticket = TicketFactory(subject="Broken login")
    add_comment(ticket, body="first from customer", author_requester=ticket.requester)
    add_comment(ticket, body="secret agent note", author_user=agent, is_public=False)
    add_comment(ticket, body="reply to customer", author_user=agent)
    client.force_login(agent)
    html = client.get(ticket.get_absolute_url()).content.decode()
    assert html.index("first from customer") < html.index("secret agent note") < html.index("reply to customer")
    note = html[html.index('comment--internal'):]
    assert note.index("Internal note") < note.index("secret agent note")
    assert html.count("comment--internal") == 1


def test_requester_card_shows_email_and_x_identity(client, agent):
    requester = RequesterFactory(name="Grace")
    Identity.objects.create(requester=requester, kind=Identity.Kind.EMAIL, value="grace@example.com")
    XIdentityFactory(
        requester=requester, handle="gracehopper", followers=1234, verified=True,
        avatar_url="https://pbs.twimg.com/profile_images/1/grace.jpg",
    )
    ticket = TicketFactory(requester=requester, channel=Channel.X)
    client.force_login(agent)
    html = client.get(ticket.get_absolute_url()).content.decode()
    assert "grace@example.com" in html
    assert "@gracehopper" in html and 'href="https://x.com/gracehopper"' in html
    assert "1234 followers" in html and "verified" in html
    assert 'src="https://pbs.twimg.com/profile_images/1/grace.jpg"' in html


def test_tweet_text_and_unsafe_urls_are_neutralised(client, agent):
    requester = RequesterFactory(name="<img src=x onerror=alert(1)>")
    XIdentityFactory(requester=requester, handle="evil", avatar_url="javascript:alert(1)")
    ticket = TicketFactory(requester=requester, channel=Channel.X, subject="<script>x</script>")
    comment = add_comment(ticket, body="<script>alert('tweet')</script>", author_requester=requester)
    Comment.objects.filter(pk=comment.pk).update(external_url="javascript:alert(2)")
    client.force_login(agent)
    html = client.get(ticket.get_absolute_url()).content.decode()
    assert "<script>alert('tweet')</script>" not in html and "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html
    assert "javascript:" not in html


def test_agent_adds_internal_note(client, agent):
    ticket = TicketFactory(status=Ticket.Status.NEW)
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "checked logs", "kind": "internal"})
    assert response.status_code == 302
    comment = ticket.comments.get()
    assert (comment.body, comment.is_public, comment.author_user) == ("checked logs", False, agent)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW  # a note is not an answer


def test_public_reply_on_web_ticket_is_a_web_comment_and_opens_it(client, agent):
    ticket = TicketFactory(status=Ticket.Status.NEW, channel=Channel.WEB)
    client.force_login(agent)
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "on it", "kind": "public"})
    comment = ticket.comments.get()
    assert comment.is_public and comment.channel == Channel.WEB
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_public_reply_on_x_ticket_goes_through_the_registered_sender(client, agent, monkeypatch):
    sent = []

    def fake_x_sender(ticket, body, author, **options):
        sent.append((ticket.pk, body, author, options))
        return add_comment(ticket, body=body, author_user=author, delivery=Comment.Delivery.QUEUED)

    monkeypatch.setitem(outbound._senders, Channel.X, fake_x_sender)
    ticket = TicketFactory(channel=Channel.X)
    client.force_login(agent)
    client.post(
        reverse("tickets:reply", args=[ticket.pk]), {"body": "we're on it", "kind": "public", "reply_option_mode": "dm"}
    )
    assert sent == [(ticket.pk, "we're on it", agent, {"mode": "dm"})]
    assert ticket.comments.get().delivery == Comment.Delivery.QUEUED


def test_a_reply_the_sender_refuses_is_shown_and_not_stored(client, agent, monkeypatch):
    from django.core.exceptions import ValidationError

    def refusing_sender(ticket, body, author, **options):
        raise ValidationError("Too long for X: 300 of 280 characters.")

    monkeypatch.setitem(outbound._senders, Channel.X, refusing_sender)
    ticket = TicketFactory(channel=Channel.X)
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "x" * 300, "kind": "public"})
    assert response.status_code == 400
    assert "Too long for X: 300 of 280 characters." in response.content.decode()
    assert not ticket.comments.exists()


def test_public_reply_on_email_ticket_without_a_confirmed_address_is_refused_with_a_reason(client, agent):
    ticket = TicketFactory(channel=Channel.EMAIL)
    # Held from before addresses were confirmed: nothing may be sent to it.
    Identity.objects.create(requester=ticket.requester, kind=Identity.Kind.EMAIL, value="maybe@example.com")
    client.force_login(agent)

    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "here you go", "kind": "public"})

    assert response.status_code == 400
    assert "email address" in response.content.decode()
    assert not ticket.comments.exists()


def test_public_reply_on_x_ticket_without_sender_is_kept_as_web_comment(client, agent, monkeypatch):
    monkeypatch.delitem(outbound._senders, Channel.X, raising=False)
    ticket = TicketFactory(channel=Channel.X)
    client.force_login(agent)
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "hello", "kind": "public"})
    comment = ticket.comments.get()
    assert comment.channel == Channel.WEB and comment.is_public and comment.delivery == Comment.Delivery.NONE


def test_internal_note_on_x_ticket_never_reaches_the_sender(client, agent, monkeypatch):
    monkeypatch.setitem(outbound._senders, Channel.X, lambda *a, **k: pytest.fail("a note was sent to X"))
    ticket = TicketFactory(channel=Channel.X)
    client.force_login(agent)
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "private", "kind": "internal"})
    assert not ticket.comments.get().is_public


def test_reply_and_solve_in_one_step(client, agent):
    ticket = TicketFactory()
    client.force_login(agent)
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "fixed", "kind": "public", "then_status": "solved"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED and ticket.solved_at is not None


def test_empty_reply_is_rejected(client, agent):
    ticket = TicketFactory()
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "  ", "kind": "public"})
    assert response.status_code == 400
    assert not ticket.comments.exists()


def test_full_ticket_shows_a_clear_error_and_keeps_the_text(client, agent, settings):
    settings.TICKET_COMMENT_LIMIT = 2
    ticket = TicketFactory()
    for i in range(2):
        add_comment(ticket, body=f"m{i}", author_requester=ticket.requester)
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "one more", "kind": "public"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "has reached the limit of 2 comments" in html and "follow-up" in html
    assert "one more" in html  # the agent's text is still in the box
    assert ticket.comments.count() == 2


def test_agent_updates_properties(client, agent, support_group):
    ticket = TicketFactory()
    client.force_login(agent)
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]),
        {"status": "pending", "priority": "3", "assignee": agent.pk, "group": support_group.pk, "tags": "vip, refund"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.group) == ("pending", 3, agent, support_group)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip"]


def test_closed_ticket_cannot_be_reopened_from_the_form(client, agent):
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    client.force_login(agent)
    response = client.post(reverse("tickets:update", args=[ticket.pk]), {"status": "open", "priority": "2", "tags": ""})
    assert response.status_code == 400
    assert "cannot be reopened" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_invalid_tag_is_rejected(client, agent):
    ticket = TicketFactory()
    client.force_login(agent)
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]), {"status": "open", "priority": "2", "tags": "<b>bad</b>"}
    )
    assert response.status_code == 400
    assert not ticket.tags.exists()


def test_restricted_agent_may_only_choose_own_groups(client, restricted, allowed_ticket, billing_group, support_group):
    client.force_login(restricted)
    form = client.get(allowed_ticket.get_absolute_url()).context["properties_form"]
    assert list(form.fields["group"].queryset) == [support_group]
    response = client.post(
        reverse("tickets:update", args=[allowed_ticket.pk]),
        {"status": "open", "priority": "2", "group": billing_group.pk, "tags": ""},
    )
    assert response.status_code == 400
    allowed_ticket.refresh_from_db()
    assert allowed_ticket.group == support_group


def test_links_to_previous_and_follow_up_tickets(client, agent):
    first = TicketFactory(subject="Original problem")
    follow_up = TicketFactory(subject="Original problem", follow_up_of=first)
    client.force_login(agent)
    assert f'href="/tickets/{follow_up.pk}/"' in client.get(first.get_absolute_url()).content.decode()
    assert f'href="/tickets/{first.pk}/"' in client.get(follow_up.get_absolute_url()).content.decode()


def test_follow_up_link_hidden_when_the_other_ticket_is_out_of_reach(client, restricted, allowed_ticket, forbidden_ticket):
    Ticket.objects.filter(pk=allowed_ticket.pk).update(follow_up_of=forbidden_ticket)
    client.force_login(restricted)
    html = client.get(allowed_ticket.get_absolute_url()).content.decode()
    assert forbidden_ticket.subject not in html and f"/tickets/{forbidden_ticket.pk}/" not in html


def test_long_thread_shows_newest_page_with_a_link_to_earlier(client, agent, settings):
    settings.COMMENTS_PER_PAGE = 10
    ticket = TicketFactory()
    Comment.objects.bulk_create(
        [Comment(ticket=ticket, body=f"message number {i:03d}", author_requester=ticket.requester) for i in range(25)]
    )
    client.force_login(agent)
    response = client.get(ticket.get_absolute_url())
    bodies = [c.body for c in response.context["page"].object_list]
    assert bodies == [f"message number {i:03d}" for i in range(20, 25)]
    assert "Earlier messages" in response.content.decode()
    earlier = client.get(ticket.get_absolute_url() + "?page=1")
    assert [c.body for c in earlier.context["page"].object_list][0] == "message number 000"


def test_ticket_page_does_not_grow_queries_with_comments(client, agent, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.lifecycle import update_ticket

    ticket = TicketFactory(assignee=agent)
    update_ticket(ticket, tags=["a", "b"])
    XIdentityFactory(requester=ticket.requester)
    CommentFactory.create_batch(2, ticket=ticket)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        client.get(ticket.get_absolute_url())
    CommentFactory.create_batch(29, ticket=ticket)
    CommentFactory.create_batch(29, ticket=ticket, author_requester=None, author_user=agent, is_public=False)
    for _ in range(5):
        TicketFactory(follow_up_of=ticket)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(ticket.get_absolute_url())
    assert len(response.context["page"].object_list) == 60
