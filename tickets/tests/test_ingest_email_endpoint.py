import pytest

from tickets.mail.models import InboundEmail
from tickets.mail.testing import build_email
from tickets.models import Ticket

from .factories import AdminFactory

pytestmark = pytest.mark.django_db

URL = "/email/inbound/"
TOKEN = "s3cret-inbound-token"


@pytest.fixture(autouse=True)
def configured(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.INBOUND_EMAIL_TOKEN = TOKEN


def post(client, body, token=TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.post(URL, data=body, content_type="message/rfc822", **headers, **extra)


def test_right_token_takes_the_message(client):
    response = post(client, build_email(subject="Printer on fire"))
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {
        "outcome": "new_ticket",
        "ticket": ticket.pk,
        "comment": ticket.comments.get().pk,
    }
    assert ticket.subject == "Printer on fire"


def test_no_token_is_forbidden(client):
    assert post(client, build_email(), token=None).status_code == 403
    assert not InboundEmail.objects.exists()


def test_wrong_token_is_forbidden(client):
    assert post(client, build_email(), token="guess").status_code == 403
    assert not InboundEmail.objects.exists()


def test_other_auth_scheme_is_forbidden(client):
    response = client.post(
        URL, data=build_email(), content_type="message/rfc822", HTTP_AUTHORIZATION=f"Basic {TOKEN}"
    )
    assert response.status_code == 403


def test_endpoint_is_off_without_a_configured_token(client, settings):
    settings.INBOUND_EMAIL_TOKEN = ""
    assert post(client, build_email(), token="").status_code == 503
    assert not InboundEmail.objects.exists()


def test_a_logged_in_admin_without_the_token_is_forbidden(client):
    client.force_login(AdminFactory())
    assert post(client, build_email(), token=None).status_code == 403


def test_duplicate_post_says_so(client):
    raw = build_email()
    post(client, raw)
    response = post(client, raw)
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    assert Ticket.objects.count() == 1


def test_only_post_is_accepted(client):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_empty_body_is_a_bad_request(client):
    assert post(client, b"").status_code == 400


def test_message_over_the_limit_is_refused(client, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1000
    raw = build_email(attachments=[("big.bin", "application/octet-stream", b"x" * 2000)])
    assert post(client, raw).status_code == 413
    assert not InboundEmail.objects.exists()


def test_messages_larger_than_form_uploads_are_taken(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    raw = build_email(attachments=[("big.bin", "application/octet-stream", b"x" * 5000)])
    assert post(client, raw).status_code == 201
