"""Rate limits on the requester's email form and confirmation page (django-ratelimit, in the
shared cache: Redis when REDIS_URL is set, as in these tests' CI). A script once posted 60
times in 0.3 s to one link: it filled the ticket to its comment cap and attached 61
addresses. Links are single-use now; the limits also stop a script that posts bad addresses
to one link, or walks many links from one address."""

from urllib.parse import urlsplit

import pytest

from tickets.links import request_email_link
from tickets.mail.capture import new_email_request
from tickets.mail.models import EmailConfirmation
from tickets.models import Channel

from .factories import TicketFactory, XIdentityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return TicketFactory(requester=XIdentityFactory().requester, channel=Channel.X)


def form_path(ticket):
    return urlsplit(request_email_link(new_email_request(ticket, None))).path


def test_the_flood_from_the_report_is_stopped_at_the_default_limit(client, ticket):
    path = form_path(ticket)
    statuses = [client.post(path, {"email": f"not an address {n}"}).status_code for n in range(60)]

    assert statuses[:10] == [400] * 10
    assert set(statuses[10:]) == {429}
    assert client.post(path, {"email": "ann@example.com"}).status_code == 429
    assert not EmailConfirmation.objects.exists() and ticket.comments.count() == 0


def test_posts_past_the_per_link_limit_are_refused(client, ticket, settings):
    settings.PUBLIC_FORM_RATE_PER_LINK = "3/m"
    path = form_path(ticket)
    for n in range(3):
        assert client.post(path, {"email": f"typo{n}"}).status_code == 400

    refused = client.post(path, {"email": "ann@example.com"})

    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()
    assert not EmailConfirmation.objects.exists()
    # Another link from the same address is not held back by this one.
    assert client.post(form_path(ticket), {"email": "ann@example.com"}).status_code == 200


def test_posts_past_the_per_address_limit_are_refused(client, ticket, settings):
    settings.PUBLIC_FORM_RATE_PER_IP = "5/m"
    links = [form_path(ticket) for _ in range(7)]

    statuses = [client.post(path, {"email": f"a{n}@example.com"}).status_code for n, path in enumerate(links)]

    assert statuses == [200] * 5 + [429] * 2
    assert EmailConfirmation.objects.count() == 5
    # Someone else, on another network, is not held back.
    assert client.post(links[6], {"email": "b@example.com"}, REMOTE_ADDR="203.0.113.9").status_code == 200


def test_only_posts_count(client, ticket, settings):
    settings.PUBLIC_FORM_RATE_PER_LINK = "2/m"
    path = form_path(ticket)
    for _ in range(10):
        assert client.get(path).status_code == 200
    assert client.post(path, {"email": "ann@example.com"}).status_code == 200


def test_confirmation_posts_are_limited_too(client, ticket, settings):
    settings.PUBLIC_FORM_RATE_PER_IP = "2/m"
    client.post(form_path(ticket), {"email": "ann@example.com"})
    confirmation = EmailConfirmation.objects.get()
    from tickets.links import confirmation_link

    path = urlsplit(confirmation_link(confirmation)).path
    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 429


def test_limits_are_counted_in_the_configured_cache(client, ticket, settings):
    from django.core.cache import cache

    settings.PUBLIC_FORM_RATE_PER_LINK = "1/m"
    path = form_path(ticket)
    client.post(path, {"email": "typo"})
    assert client.post(path, {"email": "typo"}).status_code == 429
    # Counting happens in the cache: with a fresh one (another key prefix) the count starts over.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": "another"}}
    assert cache.get("anything") is None
    assert client.post(path, {"email": "typo"}).status_code == 400
