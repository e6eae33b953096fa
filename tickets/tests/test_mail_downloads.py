import pytest

from tickets.mail.inbound import ingest_email
from tickets.mail.testing import build_email
from tickets.models import Channel, User

from .factories import AdminFactory, GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def comment():
    raw = build_email(body="See attached", attachments=[("report.html", "text/html", b"<script>x</script>")])
    return ingest_email(raw).comment


def attachment_url(comment):
    return f"/email/attachments/{comment.email_attachments.get().pk}/"


def original_url(comment):
    return f"/email/original/{comment.pk}/"


def restricted(*, sees_email: bool):
    agent = UserFactory(role=User.Role.RESTRICTED)
    agent.allowed_groups.add(GroupFactory())
    if sees_email:
        agent.allowed_channels = [Channel.EMAIL]
        agent.save()
    return agent


@pytest.mark.parametrize(
    ("make_user", "status"),
    [
        (AdminFactory, 200),
        (UserFactory, 200),
        (lambda: restricted(sees_email=True), 200),
        (lambda: restricted(sees_email=False), 404),
    ],
    ids=["admin", "agent", "restricted agent who sees the ticket", "restricted agent who does not"],
)
def test_who_may_download_an_attachment(client, comment, make_user, status):
    client.force_login(make_user())
    response = client.get(attachment_url(comment))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == b"<script>x</script>"


def test_anonymous_is_sent_to_log_in(client, comment):
    response = client.get(attachment_url(comment))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_attachment_is_always_a_download(client, comment):
    client.force_login(UserFactory())
    response = client.get(attachment_url(comment))
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="report.html"' in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("make_user", "status"),
    [
        (AdminFactory, 200),
        (UserFactory, 200),
        (lambda: restricted(sees_email=True), 200),
        (lambda: restricted(sees_email=False), 404),
    ],
    ids=["admin", "agent", "restricted agent who sees the ticket", "restricted agent who does not"],
)
def test_who_may_download_the_original_message(client, comment, make_user, status):
    client.force_login(make_user())
    response = client.get(original_url(comment))
    assert response.status_code == status
    if status == 200:
        assert b"See attached" in b"".join(response.streaming_content)


def test_anonymous_cannot_read_the_original(client, comment):
    assert client.get(original_url(comment)).status_code == 302
