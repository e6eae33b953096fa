from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError

from tickets.mail.addresses import AddressBelongsToAnotherRequester, set_requester_email
from tickets.models import Channel, Identity, User
from tickets.public import request_email_link, ticket_link

from .factories import AdminFactory, GroupFactory, RequesterFactory, TicketFactory, UserFactory, XIdentityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return TicketFactory(requester=XIdentityFactory().requester, channel=Channel.X)


@pytest.fixture
def form_path(ticket):
    return urlsplit(request_email_link(ticket)).path


def emails_of(requester):
    return list(requester.identities.filter(kind=Identity.Kind.EMAIL).values_list("value", flat=True))


def internal_notes(ticket):
    return list(ticket.comments.filter(is_public=False).values_list("body", flat=True))


def test_form_is_shown(client, form_path):
    response = client.get(form_path)
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_address_becomes_an_identity_of_the_requester_lower_cased(client, ticket, form_path):
    response = client.post(form_path, {"email": "  Ann.Smith@Example.COM "})
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert emails_of(ticket.requester) == ["ann.smith@example.com"]


def test_agents_are_told_with_an_internal_note(client, ticket, form_path):
    client.post(form_path, {"email": "ann@example.com"})
    (note,) = internal_notes(ticket)
    assert "ann@example.com" in note and "reply by email" in note
    assert not ticket.comments.filter(is_public=True).exists()


def test_invalid_address_is_refused_with_the_form_again(client, ticket, form_path):
    response = client.post(form_path, {"email": "not-an-address"})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()
    assert emails_of(ticket.requester) == []
    assert internal_notes(ticket) == []


def test_empty_submission_is_refused(client, ticket, form_path):
    response = client.post(form_path, {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_address_of_another_requester_is_not_taken_and_agents_are_told(client, ticket, form_path):
    other = RequesterFactory(name="Carl Other")
    Identity.objects.create(requester=other, kind=Identity.Kind.EMAIL, value="carl@example.com")
    response = client.post(form_path, {"email": "Carl@example.com"})
    # The visitor learns nothing about whose address it is.
    assert response.status_code == 200
    assert "Carl Other" not in response.content.decode()
    assert emails_of(ticket.requester) == []
    assert emails_of(other) == ["carl@example.com"]
    (note,) = internal_notes(ticket)
    assert "already belongs to requester Carl Other" in note


def test_leaving_a_known_address_again_changes_nothing_but_is_noted(client, ticket, form_path):
    client.post(form_path, {"email": "ann@example.com"})
    client.post(form_path, {"email": "ann@example.com"})
    assert emails_of(ticket.requester) == ["ann@example.com"]
    assert len(internal_notes(ticket)) == 2


def test_form_posted_from_the_ticket_page_works(client, ticket):
    # The ticket page's form posts to the email link; follow it as a browser would.
    page = client.get(urlsplit(ticket_link(ticket)).path).content.decode()
    action = page.split('action="', 1)[1].split('"', 1)[0]
    client.post(action, {"email": "ann@example.com"})
    assert emails_of(ticket.requester) == ["ann@example.com"]


def test_tampered_form_link_is_not_found(client, ticket, form_path):
    assert client.get(form_path.replace("/email/", "x/email/")).status_code == 404
    assert client.post(form_path.replace("/email/", "x/email/"), {"email": "a@example.com"}).status_code == 404
    assert emails_of(ticket.requester) == []


def test_ticket_page_link_does_not_open_the_form(client, ticket):
    token = urlsplit(ticket_link(ticket)).path.split("/")[2]
    assert client.post(f"/t/{token}/email/", {"email": "a@example.com"}).status_code == 404


def test_form_is_csrf_protected(ticket, form_path):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(form_path, {"email": "a@example.com"}).status_code == 403
    assert emails_of(ticket.requester) == []


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
    assert emails_of(ticket.requester) == ["ann@example.com"]


# set_requester_email: what the agents' UI calls when an agent types the address in.


def test_agent_sets_an_address_by_hand():
    requester = RequesterFactory()
    identity = set_requester_email(requester, "Ann@Example.com", actor=UserFactory())
    assert (identity.requester, identity.kind, identity.value) == (requester, "email", "ann@example.com")


def test_setting_the_same_address_twice_is_harmless():
    requester = RequesterFactory()
    set_requester_email(requester, "ann@example.com", actor=UserFactory())
    set_requester_email(requester, "ANN@example.com", actor=UserFactory())
    assert emails_of(requester) == ["ann@example.com"]


def test_agent_cannot_take_another_requesters_address():
    other = RequesterFactory()
    Identity.objects.create(requester=other, kind=Identity.Kind.EMAIL, value="carl@example.com")
    requester = RequesterFactory()
    with pytest.raises(AddressBelongsToAnotherRequester) as raised:
        set_requester_email(requester, "carl@example.com", actor=UserFactory())
    assert raised.value.identity.requester == other
    assert emails_of(requester) == []


def test_agent_gets_a_validation_error_for_a_bad_address():
    with pytest.raises(ValidationError):
        set_requester_email(RequesterFactory(), "nope", actor=UserFactory())
