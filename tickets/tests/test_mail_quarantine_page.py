"""The email quarantine: admins see every message that could not be ingested, download it as
received, and retry it once the cause is fixed; nobody else sees it."""

from __future__ import annotations

import pytest

from tickets.mail.inbound import ingest_email
from tickets.mail.models import InboundEmail
from tickets.mail.testing import build_email
from tickets.models import Ticket

from .factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/email/quarantine/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def held(settings):
    """A message quarantined because a cap was set too low for it."""
    settings.INBOUND_EMAIL_MAX_HEADER_BYTES = 64  # its From header is cut to an unreadable stub
    raw = build_email(sender="Ann Smith with a long display name <ann.smith@example.com>", subject="Held")
    assert ingest_email(raw).outcome == "quarantined"
    settings.INBOUND_EMAIL_MAX_HEADER_BYTES = 16 * 1024
    return InboundEmail.objects.get()


def test_admin_sees_the_quarantined_message_with_its_reason(client, held):
    client.force_login(AdminFactory())
    page = client.get(PAGE).content.decode()
    assert "no sender address" in page
    assert f"/email/raw/{held.pk}/" in page and f"/email/quarantine/{held.pk}/retry/" in page


def test_admin_nav_links_to_the_quarantine(client, db):
    client.force_login(AdminFactory())
    assert f'href="{PAGE}"' in client.get("/").content.decode() or f'href="{PAGE}"' in client.get(
        "/", follow=True
    ).content.decode()


def test_retry_ingests_the_message_once_the_cause_is_fixed(client, held):
    client.force_login(AdminFactory())

    response = client.post(f"/email/quarantine/{held.pk}/retry/", follow=True)

    held.refresh_from_db()
    assert held.outcome == "new_ticket" and held.attempts == 2
    assert Ticket.objects.get().subject == "Held"
    assert "ingested" in response.content.decode()
    assert "Nothing is quarantined" in client.get(PAGE).content.decode()


def test_retry_that_fails_again_keeps_it_quarantined(client, held, settings):
    settings.INBOUND_EMAIL_MAX_HEADER_BYTES = 64
    client.force_login(AdminFactory())
    client.post(f"/email/quarantine/{held.pk}/retry/")
    held.refresh_from_db()
    assert (held.outcome, held.attempts) == ("quarantined", 2)
    assert not Ticket.objects.exists()


def test_admin_downloads_the_raw_message(client, held):
    client.force_login(AdminFactory())
    response = client.get(f"/email/raw/{held.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == held.raw.open("rb").read()


@pytest.mark.parametrize("url", [PAGE, "/email/raw/{pk}/"])
def test_agent_cannot_see_the_quarantine(client, held, url):
    client.force_login(UserFactory())
    assert client.get(url.format(pk=held.pk)).status_code == 404


def test_agent_cannot_retry(client, held):
    client.force_login(UserFactory())
    assert client.post(f"/email/quarantine/{held.pk}/retry/").status_code == 404
    held.refresh_from_db()
    assert held.outcome == "quarantined"


@pytest.mark.parametrize("url", [PAGE, "/email/raw/{pk}/"])
def test_anonymous_is_sent_to_log_in(client, held, url):
    response = client.get(url.format(pk=held.pk))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_retry_only_takes_posts(client, held):
    client.force_login(AdminFactory())
    assert client.get(f"/email/quarantine/{held.pk}/retry/").status_code == 405


def test_unreadable_message_retried_after_the_cap_is_raised_is_ingested(client, settings):
    settings.INBOUND_EMAIL_MAX_PARTS = 100_000  # the parser gives up on 3,000 levels
    from .test_mail_poison import nested_multipart

    ingest_email(nested_multipart(3000))
    held = InboundEmail.objects.get()
    assert held.outcome == "quarantined" and held.subject == ""
    settings.INBOUND_EMAIL_MAX_PARTS = 100  # the operator puts the cap back

    client.force_login(AdminFactory())
    client.post(f"/email/quarantine/{held.pk}/retry/")

    held.refresh_from_db()
    assert (held.outcome, held.subject, held.from_address) == ("new_ticket", "Deep", "ann@example.com")
