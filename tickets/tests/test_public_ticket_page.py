import time
from urllib.parse import urlsplit

import pytest
from django.core import signing

from tickets.comments import add_comment
from tickets.links import ticket_link
from tickets.models import Channel, Ticket, User

from .factories import AdminFactory, GroupFactory, TicketFactory, UserFactory, XIdentityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    identity = XIdentityFactory(handle="ann_smith")
    ticket = TicketFactory(
        requester=identity.requester,
        channel=Channel.X,
        subject="VIP, threatens to sue",
        assignee=UserFactory(first_name="Zed", last_name="Secretname"),
    )
    agent = UserFactory(first_name="Bea", last_name="Agent")
    add_comment(ticket, body="@acme my parcel never came", author_requester=ticket.requester, channel=Channel.X)
    add_comment(ticket, body="Sorry to hear! Looking into it.", author_user=agent, channel=Channel.X)
    add_comment(ticket, body="liked your reply", author_requester=ticket.requester, channel=Channel.X_LIKE)
    add_comment(ticket, body="My address is 1 Secret Road", author_requester=ticket.requester, channel=Channel.X_DM)
    add_comment(ticket, body="Customer is a known troll", author_user=agent, is_public=False, channel=Channel.X)
    add_comment(ticket, body="Sent by email: invoice 123", author_user=agent, channel=Channel.EMAIL)
    add_comment(ticket, body="Web form message", author_requester=ticket.requester, channel=Channel.WEB)
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.PENDING)  # the requester's tweets reopened it
    ticket.refresh_from_db()
    return ticket


def path_of(url):
    return urlsplit(url).path


def test_page_shows_the_status_and_the_public_tweets(client, ticket):
    response = client.get(path_of(ticket_link(ticket)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Pending" in page
    assert "@acme my parcel never came" in page
    assert "Sorry to hear! Looking into it." in page
    assert "Bea" in page
    assert "liked your reply" in page


def test_page_hides_dms_internal_notes_emails_and_other_channels(client, ticket):
    page = client.get(path_of(ticket_link(ticket))).content.decode()
    assert "1 Secret Road" not in page
    assert "known troll" not in page
    assert "invoice 123" not in page
    assert "Web form message" not in page


def test_page_shows_neither_subject_nor_assignee(client, ticket):
    page = client.get(path_of(ticket_link(ticket))).content.decode()
    assert "threatens to sue" not in page
    assert "Secretname" not in page


def test_agents_are_shown_by_first_name_only(client, ticket):
    page = client.get(path_of(ticket_link(ticket))).content.decode()
    assert '<span class="who">Bea</span>' in page
    assert "Bea Agent" not in page


def test_page_shows_no_other_ticket(client, ticket):
    other = TicketFactory(requester=ticket.requester, channel=Channel.X)
    add_comment(other, body="Another conversation entirely", author_requester=ticket.requester, channel=Channel.X)
    page = client.get(path_of(ticket_link(ticket))).content.decode()
    assert "Another conversation entirely" not in page


def test_tweets_are_escaped(client, ticket):
    add_comment(ticket, body="<script>alert(1)</script>", author_requester=ticket.requester, channel=Channel.X)
    page = client.get(path_of(ticket_link(ticket))).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_page_offers_no_email_form(client, ticket):
    # Its link is posted publicly: anyone reading the thread could leave their own address.
    page = client.get(path_of(ticket_link(ticket))).content.decode()
    assert 'name="email"' not in page and "/email/" not in page


def test_link_is_absolute_and_short_enough_for_a_tweet(ticket, settings):
    link = ticket_link(ticket)
    assert link.startswith(settings.SITE_URL + "/t/")
    assert len(path_of(link)) < 70


def test_tampered_link_is_not_found(client, ticket):
    path = path_of(ticket_link(ticket))
    token = path.split("/")[2]
    value, ts, signature = token.split(".")
    other = TicketFactory()
    forged = f"{signing.b62_encode(other.pk)}.{ts}.{signature}"
    assert client.get(f"/t/{forged}/").status_code == 404
    assert client.get(f"/t/{value}.{ts}.{signature[:-2]}xx/").status_code == 404
    assert client.get(f"/t/{ticket.pk}/").status_code == 404


def test_email_form_link_does_not_open_the_ticket_page(client, ticket):
    from tickets.links import request_email_link
    from tickets.mail.capture import new_email_request

    email_token = path_of(request_email_link(new_email_request(ticket, None))).split("/")[2]
    assert client.get(f"/t/{email_token}/").status_code == 404


def test_expired_link_is_not_found(client, ticket, settings, monkeypatch):
    settings.TICKET_LINK_MAX_AGE_DAYS = 30
    with monkeypatch.context() as patch:
        patch.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(time.time()) - 31 * 86400)
        )
        old_link = ticket_link(ticket)
    assert client.get(path_of(old_link)).status_code == 404
    settings.TICKET_LINK_MAX_AGE_DAYS = 0  # never expire
    assert client.get(path_of(old_link)).status_code == 200


def test_link_to_a_deleted_ticket_is_not_found(client, ticket):
    path = path_of(ticket_link(ticket))
    ticket.comments.all().delete()
    ticket.delete()
    assert client.get(path).status_code == 404


def test_page_is_not_cached_and_leaks_no_referer(client, ticket):
    response = client.get(path_of(ticket_link(ticket)))
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


def test_page_only_answers_get(client, ticket):
    assert client.post(path_of(ticket_link(ticket))).status_code == 405


# Permissions: the signed link is the only credential. Everyone holding it sees the same
# requester-facing page, signed in or not; nobody sees more.


def restricted_agent_without_access():
    agent = UserFactory(role=User.Role.RESTRICTED)
    agent.allowed_groups.add(GroupFactory())
    return agent


@pytest.mark.parametrize(
    "make_user",
    [None, AdminFactory, UserFactory, restricted_agent_without_access],
    ids=["anonymous", "admin", "agent", "restricted agent"],
)
def test_everyone_with_the_link_sees_the_same_public_page(client, ticket, make_user):
    if make_user:
        client.force_login(make_user())
    response = client.get(path_of(ticket_link(ticket)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sorry to hear! Looking into it." in page
    assert "known troll" not in page


@pytest.mark.parametrize(
    "make_user",
    [None, AdminFactory, UserFactory, restricted_agent_without_access],
    ids=["anonymous", "admin", "agent", "restricted agent"],
)
def test_nobody_gets_in_without_a_valid_signature(client, ticket, make_user):
    if make_user:
        client.force_login(make_user())
    assert client.get(f"/t/{signing.b62_encode(ticket.pk)}.x.y/").status_code == 404


def test_the_link_of_a_merged_ticket_shows_the_ticket_it_was_merged_into(client, ticket):
    from tickets.merging import merge_tickets

    source = TicketFactory(requester=ticket.requester, channel=Channel.X)
    add_comment(source, body="@acme also, order 77?", author_requester=source.requester, channel=Channel.X)
    link = ticket_link(source)  # posted with a reply before the merge
    merge_tickets(source, ticket, by=UserFactory())

    page = client.get(path_of(link)).content.decode()

    assert "@acme my parcel never came" in page and "@acme also, order 77?" in page
    assert "Pending" in page  # the target's status, not the closed source's
