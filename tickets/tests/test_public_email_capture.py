"""The public email form and the confirmation of the address it takes.

An agent's "ask for their email" makes a link bound to the ticket's requester that works
once. The address posted there is not the requester's: it receives one mail, with a
confirmation link, and becomes the requester's (primary if they had none) only when its
owner confirms. Nothing else is ever sent to an unconfirmed address."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.test import Client

from tickets import outbox
from tickets.links import request_email_link, ticket_link
from tickets.mail.addresses import email_address_for
from tickets.mail.capture import new_email_request
from tickets.mail.models import OutgoingNotification
from tickets.mail.outbound import NoEmailAddress, send_email_reply
from tickets.models import Channel, Comment, Identity, User

from .factories import (
    AdminFactory,
    EmailIdentityFactory,
    GroupFactory,
    RequesterFactory,
    TicketFactory,
    UserFactory,
    XIdentityFactory,
)
from .outbox_helpers import broker_down, time_passes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return TicketFactory(requester=XIdentityFactory().requester, channel=Channel.X)


@pytest.fixture
def form_path(ticket):
    return urlsplit(request_email_link(new_email_request(ticket, UserFactory()))).path


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """The test client, with each request's on-commit callbacks run as if it had committed:
    the confirmation mail leaves after commit, as in production."""
    post = client.post

    def post_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_commit
    return client


def emails_of(requester):
    return list(requester.identities.filter(kind=Identity.Kind.EMAIL).values_list("value", flat=True))


def internal_notes(ticket):
    return list(ticket.comments.filter(is_public=False).values_list("body", flat=True))


def confirmation_path(message) -> str:
    return urlsplit(re.search(r"https?://\S+/t/confirm/\S+/", message.body).group(0)).path


def test_form_is_shown(client, form_path):
    response = client.get(form_path)
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_address_left_on_the_form_only_gets_a_confirmation_mail(client, ticket, form_path):
    response = client.post(form_path, {"email": "  Ann.Smith@Example.COM "})

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    # Not the requester's yet: the person at the form may not be the requester.
    assert emails_of(ticket.requester) == []
    assert email_address_for(ticket) is None
    (sent,) = mail.outbox
    assert sent.to == ["ann.smith@example.com"] and "/t/confirm/" in sent.body
    (note,) = internal_notes(ticket)
    assert "ann.smith@example.com" in note and "confirm" in note


def test_the_confirmation_mail_is_in_the_outbox_when_the_broker_is_down(client, ticket, form_path, settings):
    with broker_down():
        response = client.post(form_path, {"email": "ann@example.com"})

    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert mail.outbox == []
    (row,) = OutgoingNotification.objects.all()
    assert (row.state, row.recipients) == ("queued", ["ann@example.com"])

    time_passes(settings.OUTBOX_SWEEP_GRACE_SECONDS + 1)
    assert outbox.sweep_outboxes() == 1 and outbox.sweep_outboxes() == 0
    (sent,) = mail.outbox
    assert sent.to == ["ann@example.com"] and "/t/confirm/" in sent.body


def test_nothing_but_the_confirmation_goes_to_an_unconfirmed_address(client, ticket, form_path):
    client.post(form_path, {"email": "someone@example.com"})

    with pytest.raises(NoEmailAddress):
        send_email_reply(ticket, "Here is your private order history", author=UserFactory())

    assert len(mail.outbox) == 1  # the confirmation, nothing else


def test_confirming_makes_it_the_requesters_primary_address(client, ticket, form_path):
    client.post(form_path, {"email": "ann@example.com"})
    path = confirmation_path(mail.outbox[0])

    page = client.get(path)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "Confirm my address" in page.content.decode()
    assert emails_of(ticket.requester) == []

    response = client.post(path)

    assert response.status_code == 200 and "Your address is confirmed" in response.content.decode()
    identity = Identity.objects.get(kind=Identity.Kind.EMAIL)
    assert (identity.requester, identity.value, identity.is_primary) == (ticket.requester, "ann@example.com", True)
    assert identity.confirmed_at is not None and identity.added_by is None
    assert email_address_for(ticket) == "ann@example.com"
    assert "confirmed by its owner" in internal_notes(ticket)[-1]


def test_confirming_does_not_take_the_primary_from_an_existing_address(client, ticket, form_path):
    EmailIdentityFactory(requester=ticket.requester, value="ann@home.example")
    client.post(form_path, {"email": "ann@work.example"})
    client.post(confirmation_path(mail.outbox[0]))

    assert email_address_for(ticket) == "ann@home.example"
    assert "still go to the primary address ann@home.example" in internal_notes(ticket)[-1]


def test_the_link_works_once(client, ticket, form_path):
    assert client.post(form_path, {"email": "ann@example.com"}).status_code == 200

    again = client.post(form_path, {"email": "mallory@example.com"})

    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert client.get(form_path).status_code == 410
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_a_burst_of_posts_with_one_link_leaves_one_address_and_one_note(client, ticket, form_path):
    for n in range(20):
        client.post(form_path, {"email": f"flood{n}@example.com"})

    assert len(mail.outbox) == 1
    assert ticket.comments.count() == 1


def test_the_link_is_bound_to_the_requester_it_was_made_for(client, ticket, form_path):
    ticket.requester = RequesterFactory()  # the ticket was moved to another requester
    ticket.save()

    assert client.post(form_path, {"email": "ann@example.com"}).status_code == 410
    assert mail.outbox == []


def test_links_made_before_single_use_links_open_nothing(client, ticket):
    # They signed the ticket id; read as a request id it could open another requester's request.
    new_email_request(TicketFactory(), None)  # a request whose id equals the ticket's
    old = signing.TimestampSigner(salt="tickets.public.request-email", sep=".").sign(signing.b62_encode(ticket.pk))
    assert client.get(f"/t/{old}/email/").status_code == 404


def test_confirmation_link_works_once(client, ticket, form_path):
    client.post(form_path, {"email": "ann@example.com"})
    path = confirmation_path(mail.outbox[0])
    client.post(path)
    client.post(path)
    assert len(internal_notes(ticket)) == 2  # left, confirmed: a second click changes nothing


def test_address_of_another_requester_is_not_taken_and_nobody_is_named(client, ticket, form_path):
    other = RequesterFactory(name="Carl Other")
    EmailIdentityFactory(requester=other, value="carl@example.com")

    response = client.post(form_path, {"email": "Carl@example.com"})
    # The visitor learns nothing about whose address it is.
    assert response.status_code == 200 and "Carl Other" not in response.content.decode()
    client.post(confirmation_path(mail.outbox[0]))

    assert emails_of(ticket.requester) == []
    assert emails_of(other) == ["carl@example.com"]
    note = internal_notes(ticket)[-1]
    assert "already belongs to another requester" in note
    assert "Carl Other" not in note and f"#{other.pk}" not in note


def test_invalid_address_is_refused_with_the_form_again(client, ticket, form_path):
    response = client.post(form_path, {"email": "not-an-address"})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()
    assert internal_notes(ticket) == [] and mail.outbox == []
    # A mistyped address does not use the link up.
    assert client.post(form_path, {"email": "ann@example.com"}).status_code == 200


def test_empty_submission_is_refused(client, ticket, form_path):
    response = client.post(form_path, {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_tampered_form_link_is_not_found(client, ticket, form_path):
    assert client.get(form_path.replace("/email/", "x/email/")).status_code == 404
    assert client.post(form_path.replace("/email/", "x/email/"), {"email": "a@example.com"}).status_code == 404
    assert mail.outbox == []


def test_ticket_page_link_does_not_open_the_form(client, ticket):
    token = urlsplit(ticket_link(ticket)).path.split("/")[2]
    assert client.post(f"/t/{token}/email/", {"email": "a@example.com"}).status_code == 404


def test_form_and_confirmation_are_csrf_protected(ticket, form_path):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(form_path, {"email": "a@example.com"}).status_code == 403
    assert mail.outbox == []


def test_form_pages_keep_the_token_from_other_sites_but_not_from_the_form_itself(client, form_path):
    # no-referrer made Chromium post the form with "Origin: null", which CSRF refuses.
    response = client.get(form_path)
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"] and "noindex" in response["X-Robots-Tag"]


def test_the_form_loads_no_inline_style_or_script(client, form_path):
    page = client.get(form_path).content.decode()
    assert "<style" not in page and "<script" not in page and "style=" not in page


def restricted_agent_without_access():
    agent = UserFactory(role=User.Role.RESTRICTED)
    agent.allowed_groups.add(GroupFactory())
    return agent


@pytest.mark.parametrize(
    "make_user",
    [None, AdminFactory, UserFactory, restricted_agent_without_access],
    ids=["anonymous", "admin", "agent", "restricted agent"],
)
def test_the_link_alone_grants_the_form(client, ticket, form_path, make_user):
    if make_user:
        client.force_login(make_user())
    assert client.post(form_path, {"email": "ann@example.com"}).status_code == 200
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_comments_on_the_ticket_stay_internal(client, ticket, form_path):
    client.post(form_path, {"email": "ann@example.com"})
    assert not Comment.objects.filter(ticket=ticket, is_public=True).exists()
