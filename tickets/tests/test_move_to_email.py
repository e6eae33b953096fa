"""Moving a conversation to email from the agent UI: the "Reply by email" choice, the
requester's address set by hand, and what email brought in shown under its comment."""

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from tickets import outbound
from tickets.comments import add_comment
from tickets.mail.addresses import email_address_for
from tickets.mail.inbound import ingest_email
from tickets.mail.models import EmailAttachment, InboundEmail
from tickets.mail.testing import build_email
from tickets.mail.tokens import reply_address
from tickets.models import Channel, Comment, Identity

from .factories import CommentFactory, EmailIdentityFactory, RequesterFactory, TicketFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

EMAIL_CHOICE = "Email to ann@example.com"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def x_ticket():
    """An X ticket whose requester has not given an email address (yet)."""
    return TicketFactory(channel=Channel.X, requester=RequesterFactory(name="Ann Smith"), subject="Lost parcel")


def give_email(ticket, address="ann@example.com"):
    return EmailIdentityFactory(requester=ticket.requester, value=address)


def set_email_url(ticket):
    return reverse("tickets:requester_email", args=[ticket.pk])


# --- The reply box's "Reply by email" -----------------------------------------------------


def test_reply_by_email_is_offered_only_when_the_requester_has_an_address(client, agent, x_ticket):
    client.force_login(agent)
    assert 'name="kind" value="email"' not in client.get(x_ticket.get_absolute_url()).content.decode()
    give_email(x_ticket)
    html = client.get(x_ticket.get_absolute_url()).content.decode()
    assert EMAIL_CHOICE in html and 'name="kind" value="email"' in html


def test_the_x_ways_of_answering_stand_beside_the_email_choice(client, agent, x_ticket):
    give_email(x_ticket)
    client.force_login(agent)
    html = client.get(x_ticket.get_absolute_url()).content.decode()
    # One choice of how to answer: the channel's ways first, then the email, then the note.
    kinds = [part.split('"', 1)[0] for part in html.split('name="kind" value="')[1:]]
    assert kinds[-2:] == ["email", "internal"] and len(kinds) > 2
    assert EMAIL_CHOICE in html and "On X" in html


def test_email_tickets_are_not_offered_a_second_email_choice(client, agent):
    ticket = TicketFactory(channel=Channel.EMAIL)
    give_email(ticket)
    client.force_login(agent)
    html = client.get(ticket.get_absolute_url()).content.decode()
    assert 'name="kind" value="email"' not in html and "Public reply" in html


def test_reply_by_email_sends_it_with_the_tickets_reply_to(
    client, agent, x_ticket, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(outbound._senders, Channel.X, lambda *a, **k: pytest.fail("an email reply went to X"))
    give_email(x_ticket)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tickets:reply", args=[x_ticket.pk]),
            # The X panel's inputs come along with the form; an email reply ignores them.
            {"body": "Could you send us the tracking number?", "kind": "email", "reply_option_mode": "tweet"},
        )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert message.reply_to == [reply_address(x_ticket.pk)]
    assert message.subject == f"[#{x_ticket.pk}] Lost parcel"
    assert "tracking number" in message.body
    comment = x_ticket.comments.get()
    assert comment.is_public and comment.author_user == agent
    assert comment.channel == Channel.EMAIL and comment.external_source == Comment.Source.EMAIL
    assert comment.external_id == message.extra_headers["Message-ID"]
    assert comment.delivery == Comment.Delivery.SENT


def test_email_choice_without_an_address_is_refused_and_nothing_sent(client, agent, x_ticket):
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[x_ticket.pk]), {"body": "hello", "kind": "email"})
    assert response.status_code == 400
    assert not x_ticket.comments.exists() and mail.outbox == []


def test_the_address_removed_meanwhile_is_a_clear_error(x_ticket, agent):
    """The form offered the address, which was gone when post_reply ran."""
    from django.core.exceptions import ValidationError

    from tickets.replies import post_reply

    with pytest.raises(ValidationError, match="no email address"):
        post_reply(x_ticket, body="hello", author=agent, public=True, by_email=True)
    assert not x_ticket.comments.exists()


# --- Setting the requester's address by hand ----------------------------------------------


def test_agent_sets_the_requesters_email(client, agent, x_ticket):
    client.force_login(agent)
    response = client.post(set_email_url(x_ticket), {"email": " Ann@Example.com "})
    assert response.status_code == 302 and response.url == x_ticket.get_absolute_url()
    identity = Identity.objects.get(kind=Identity.Kind.EMAIL)
    assert identity.requester == x_ticket.requester and identity.value == "ann@example.com"
    html = client.get(x_ticket.get_absolute_url()).content.decode()
    assert "ann@example.com is now an email address of Ann Smith." in html
    assert EMAIL_CHOICE in html


def test_an_invalid_address_is_shown_and_not_stored(client, agent, x_ticket):
    client.force_login(agent)
    response = client.post(set_email_url(x_ticket), {"email": "ann at example"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Identity.objects.filter(kind=Identity.Kind.EMAIL).exists()


def test_an_address_of_another_requester_is_not_moved(client, agent, x_ticket):
    other = RequesterFactory(name="Bob Jones")
    Identity.objects.create(requester=other, kind=Identity.Kind.EMAIL, value="ann@example.com")
    client.force_login(agent)
    response = client.post(set_email_url(x_ticket), {"email": "ann@example.com"})
    assert response.status_code == 400
    html = response.content.decode()
    # The error names nobody: the agent may not see that other requester's tickets.
    assert "belongs to another requester" in html and "Nothing was changed" in html
    assert "Bob Jones" not in html and f"#{other.pk}" not in html
    assert Identity.objects.get(value="ann@example.com").requester == other
    assert not x_ticket.requester.identities.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin_user", 302), ("agent", 302), ("restricted", 302)],
)
def test_agents_who_see_the_ticket_may_set_the_email(client, request, allowed_ticket, who, status):
    client.force_login(request.getfixturevalue(who))
    response = client.post(set_email_url(allowed_ticket), {"email": "ann@example.com"})
    assert response.status_code == status
    assert allowed_ticket.requester.identities.filter(value="ann@example.com").exists()


def test_restricted_agent_without_access_gets_404(client, restricted, forbidden_ticket):
    client.force_login(restricted)
    response = client.post(set_email_url(forbidden_ticket), {"email": "ann@example.com"})
    assert response.status_code == 404
    assert not Identity.objects.filter(kind=Identity.Kind.EMAIL).exists()


def test_anonymous_is_sent_to_log_in(client, x_ticket):
    response = client.post(set_email_url(x_ticket), {"email": "ann@example.com"})
    assert response.status_code == 302 and "/login" in response.url
    assert not Identity.objects.filter(kind=Identity.Kind.EMAIL).exists()


def test_setting_the_email_only_allows_post(client, agent, x_ticket):
    client.force_login(agent)
    assert client.get(set_email_url(x_ticket), {"email": "ann@example.com"}).status_code == 405
    assert not Identity.objects.filter(kind=Identity.Kind.EMAIL).exists()


def test_setting_the_email_needs_the_csrf_token(agent, x_ticket):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post(set_email_url(x_ticket), {"email": "ann@example.com"}).status_code == 403
    page = client.get(x_ticket.get_absolute_url())
    token = page.context["csrf_token"]
    response = client.post(set_email_url(x_ticket), {"email": "ann@example.com", "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302


# --- What email brought in, under its comment ---------------------------------------------


def test_attachments_and_the_original_are_linked_under_the_comment(client, agent):
    raw = build_email(
        body="Photo attached",
        attachments=[("<b>label</b>.png", "image/png", b"\x89PNG....")],
    )
    comment = ingest_email(raw).comment
    reply = add_comment(comment.ticket, body="Thanks, looking", author_user=agent)
    client.force_login(agent)
    html = client.get(comment.ticket.get_absolute_url()).content.decode()
    attachment = comment.email_attachments.get()
    assert f'href="{reverse("mail:attachment", args=[attachment.pk])}"' in html
    assert "&lt;b&gt;label&lt;/b&gt;.png" in html and "<b>label</b>" not in html
    assert f'href="{reverse("mail:original", args=[comment.pk])}"' in html
    # The agent's own reply came from no email: no original to link.
    assert reverse("mail:original", args=[reply.pk]) not in html


def test_email_links_add_no_query_per_comment(client, agent, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = TicketFactory(channel=Channel.EMAIL)

    def email_comments(n):
        for comment in CommentFactory.create_batch(n, ticket=ticket):
            InboundEmail.objects.create(
                message_id=f"<{comment.pk}@example.com>",
                raw=ContentFile(b"raw", name="m.eml"),
                outcome=InboundEmail.Outcome.THREADED,
                ticket=ticket,
                comment=comment,
            )
            for name in ("a.txt", "b.txt"):
                EmailAttachment.objects.create(
                    comment=comment, file=ContentFile(b"x", name=name), filename=name, size=1
                )

    email_comments(2)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        client.get(ticket.get_absolute_url())
    email_comments(20)
    CommentFactory.create_batch(10, ticket=ticket)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(ticket.get_absolute_url()).content.decode()
    assert html.count("view original email") == 22 and html.count("b.txt") == 22


# --- In a browser: the X counter and the email choice together ----------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_long_reply_by_email_on_an_x_ticket_is_not_held_to_280(live_server, browser, agent, x_ticket):
    """The X panel's counter disables Submit past 280 characters for a public reply on X;
    an email reply has no such limit, so choosing it enables Submit again."""
    give_email(x_ticket)
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}{x_ticket.get_absolute_url()}")
    page.fill("#id_body", "word " * 80)
    submit = page.locator("#reply-form button[type=submit].primary")
    assert submit.is_disabled()
    page.check("#reply-form input[name=kind][value=email]")
    assert submit.is_enabled()
    submit.click()
    page.wait_for_selector("text=Reply queued by email")
    comment = x_ticket.comments.get()
    assert comment.channel == Channel.EMAIL and len(comment.body) == 399
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


# --- Who may change a requester's addresses -------------------------------------------------


def test_agent_added_address_records_who_added_it(client, agent, x_ticket):
    client.force_login(agent)
    client.post(set_email_url(x_ticket), {"email": "ann@example.com"})
    identity = Identity.objects.get(kind=Identity.Kind.EMAIL)
    assert identity.added_by == agent and identity.confirmed_at is not None
    assert f"added by {agent}" in client.get(x_ticket.get_absolute_url()).content.decode()


def test_restricted_agent_cannot_change_a_requester_with_tickets_outside_their_reach(
    client, restricted, allowed_ticket, forbidden_ticket
):
    # The same requester on a ticket the restricted agent cannot see: an address they added
    # would receive that ticket's replies.
    forbidden_ticket.requester = allowed_ticket.requester
    forbidden_ticket.save()
    client.force_login(restricted)

    response = client.post(set_email_url(allowed_ticket), {"email": "rita@example.com"})

    assert response.status_code == 400
    assert "tickets outside your views" in response.content.decode()
    assert not Identity.objects.filter(kind=Identity.Kind.EMAIL).exists()


def test_adding_an_address_does_not_redirect_the_replies(client, agent, x_ticket):
    give_email(x_ticket, "ann@example.com")
    client.force_login(agent)
    client.post(set_email_url(x_ticket), {"email": "ann@elsewhere.example"})
    assert email_address_for(x_ticket) == "ann@example.com"


def primary_url(ticket, identity):
    return reverse("tickets:requester_primary_email", args=[ticket.pk, identity.pk])


def test_agent_makes_another_confirmed_address_primary(client, agent, x_ticket):
    give_email(x_ticket, "ann@example.com")
    work = EmailIdentityFactory(requester=x_ticket.requester, value="ann@work.example", is_primary=False)
    client.force_login(agent)

    assert client.post(primary_url(x_ticket, work)).status_code == 302

    assert email_address_for(x_ticket) == "ann@work.example"
    assert list(Identity.objects.filter(is_primary=True).values_list("value", flat=True)) == ["ann@work.example"]


def test_an_unconfirmed_address_cannot_be_made_primary(client, agent, x_ticket):
    left = Identity.objects.create(requester=x_ticket.requester, kind=Identity.Kind.EMAIL, value="left@example.com")
    client.force_login(agent)
    client.post(primary_url(x_ticket, left))
    assert email_address_for(x_ticket) is None


def test_restricted_agent_cannot_choose_the_primary_of_a_shared_requester(
    client, restricted, allowed_ticket, forbidden_ticket
):
    forbidden_ticket.requester = allowed_ticket.requester
    forbidden_ticket.save()
    give_email(allowed_ticket, "ann@example.com")
    theirs = EmailIdentityFactory(requester=allowed_ticket.requester, value="rita@example.com", is_primary=False)
    client.force_login(restricted)

    client.post(primary_url(allowed_ticket, theirs))

    assert email_address_for(allowed_ticket) == "ann@example.com"


def test_making_primary_needs_the_ticket_in_reach_and_a_login(client, restricted, forbidden_ticket):
    identity = give_email(forbidden_ticket)
    client.force_login(restricted)
    assert client.post(primary_url(forbidden_ticket, identity)).status_code == 404
    client.logout()
    assert client.post(primary_url(forbidden_ticket, identity)).status_code == 302
    assert client.get(primary_url(forbidden_ticket, identity)).status_code in (302, 405)
